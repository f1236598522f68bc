package pii

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTreatments(t *testing.T) {
	p, err := New(Options{
		HashKey:       []byte("test-key"),
		PathTemplates: []string{"/data/users/*/profile.jpg"},
		URLTemplates:  []string{"/v1/users/*/items"},
	})
	require.NoError(t, err)
	tests := []struct {
		key, in, want string
	}{
		{"file.path", "/data/users/12345/profile.jpg", "/data/users/*/profile.jpg"},
		{"file.path", "/workspace/notes-12.json", "/workspace/notes-*.json"},
		{"file.path", "/workspace/src/main.go", "/workspace/src/main.go"},
		{"fs.path", "/tmp/0af7651916cd43dd8448eb211c80319c/out", "/tmp/*/out"},
		{"url.full", "https://api.example.com/v1/users/42/items?page=2#top", "https://api.example.com/v1/users/*/items?page=*"},
		{"url.full", "https://api.example.com/v1/orders/9f1c2b7e-3d4a-4b5c-8d6e-7f8091a2b3c4", "https://api.example.com/v1/orders/{id}"},
		{"url.full", "https://api.example.com/v1/weather", "https://api.example.com/v1/weather"},
		{"http.url", "/v1/users/alice@example.com/profile", "/v1/users/{id}/profile"},
		{"db.query.text", "SELECT * FROM users WHERE email = 'a@b.c' AND id = 42", "SELECT * FROM users WHERE email = ? AND id = ?"},
		{"db.statement", "INSERT INTO orders_2024 (id, total) VALUES (1, 9.99)", "INSERT INTO orders_2024 (id, total) VALUES (?, ?)"},
		{"server.address", "db.internal", "db.internal"},
	}
	for _, tc := range tests {
		out, changed := p.Apply(p.For(tc.key), tc.in)
		assert.Equal(t, tc.want, out, tc.in)
		assert.Equal(t, tc.want != tc.in, changed, tc.in)
	}
	h1, _ := p.Apply(p.For("user.email"), "alice@example.com")
	h2, _ := p.Apply(p.For("user.email"), "alice@example.com")
	h3, _ := p.Apply(p.For("user.email"), "bob@example.com")
	assert.Len(t, h1, 16)
	assert.Equal(t, h1, h2, "stable, so joinable")
	assert.NotEqual(t, h1, h3)
	assert.NotContains(t, h1, "alice")
}

func TestKeysConfig(t *testing.T) {
	p, err := New(Options{PathKeys: []string{"my.*.path"}, URLKeys: []string{}, SQLKeys: []string{}})
	require.NoError(t, err)
	assert.Equal(t, Path, p.For("my.cache.path"))
	assert.Equal(t, None, p.For("file.path"))
	assert.Equal(t, None, p.For("url.full"))
	assert.Equal(t, None, p.For("user.id"), "no hash key: hashing is off")

	_, err = New(Options{PathKeys: []string{"x"}, URLKeys: []string{"x"}})
	assert.ErrorContains(t, err, `"x" is listed for both path and url`)
	_, err = New(Options{PathTemplates: []string{"relative"}})
	assert.Error(t, err)
	_, err = New(Options{HashLength: 200})
	assert.Error(t, err)
}

func BenchmarkURL(b *testing.B) {
	p, _ := New(Options{})
	b.ReportAllocs()
	for b.Loop() {
		p.Apply(URL, "https://api.weather.example.com/v1/forecast/12345?units=metric")
	}
}

func BenchmarkSQL(b *testing.B) {
	p, _ := New(Options{})
	b.ReportAllocs()
	for b.Loop() {
		p.Apply(SQL, "SELECT id, name FROM orders WHERE customer_id = 123456 AND status = 'open'")
	}
}
