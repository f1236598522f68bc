// Package scrubtest generates fake but format-valid credentials for every
// built-in rule, for tests, the corpus test and benchmarks. Every value is
// random from a seeded source: none is, or was ever, a real credential.
package scrubtest

import (
	"encoding/base64"
	"math/rand/v2"
	"strings"
)

// Sample is one planted credential.
type Sample struct {
	Rule   string // the rule expected to catch it
	Secret string // the bytes that must not survive
	Text   string // a realistic value holding the secret
}

// Gen produces random strings of given alphabets.
type Gen struct{ R *rand.Rand }

// NewGen returns a generator seeded with seed.
func NewGen(seed uint64) *Gen { return &Gen{R: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

const (
	digits  = "0123456789"
	lowers  = "abcdefghijklmnopqrstuvwxyz"
	uppers  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	alnum   = digits + lowers + uppers
	hexLow  = "0123456789abcdef"
	b64set  = alnum + "+/"
	urlSafe = alnum + "-_"
)

func (g *Gen) From(set string, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(set[g.R.IntN(len(set))])
	}
	return b.String()
}

func (g *Gen) An(n int) string  { return g.From(alnum, n) }
func (g *Gen) Hex(n int) string { return g.From(hexLow, n) }
func (g *Gen) Up(n int) string  { return g.From(uppers+digits, n) }
func (g *Gen) Lo(n int) string  { return g.From(lowers+digits, n) }
func (g *Gen) Let(n int) string { return g.From(lowers+uppers, n) }
func (g *Gen) Dig(n int) string { return g.From(digits, n) }
func (g *Gen) B64(n int) string { return g.From(b64set, n) }
func (g *Gen) URL(n int) string { return g.From(urlSafe, n) }

// uuid is a random RFC 4122-shaped UUID.
func (g *Gen) UUID() string {
	return g.Hex(8) + "-" + g.Hex(4) + "-4" + g.Hex(3) + "-a" + g.Hex(3) + "-" + g.Hex(12)
}

type gen func(g *Gen) (secret, text string)

// whole: the whole token is the secret, embedded in a log-like sentence.
func whole(f func(g *Gen) string) gen {
	return func(g *Gen) (string, string) {
		s := f(g)
		return s, "using credential " + s + " for upload"
	}
}

// pair: key=value forms, the value is the secret.
func pair(prefix string, f func(g *Gen) string) gen {
	return func(g *Gen) (string, string) {
		s := f(g)
		return s, prefix + s
	}
}

var generators = map[string]gen{
	"aws-access-key-id":               whole(func(g *Gen) string { return "AKIA" + g.From(uppers+"234567", 16) }),
	"aws-secret-access-key":           pair("aws_secret_access_key = ", func(g *Gen) string { return g.B64(40) }),
	"aws-session-token":               pair("AWS_SESSION_TOKEN=", func(g *Gen) string { return "IQoJb3JpZ2luX2Vj" + g.B64(200) }),
	"aws-mws-key":                     whole(func(g *Gen) string { return "amzn.mws." + g.UUID() }),
	"gcp-api-key":                     whole(func(g *Gen) string { return "AIza" + g.URL(35) }),
	"gcp-service-account-key-id":      pair(`{"type": "service_account", "private_key_id": "`, func(g *Gen) string { return g.Hex(40) }),
	"gcp-oauth-client-secret":         whole(func(g *Gen) string { return "GOCSPX-" + g.URL(28) }),
	"google-oauth-access-token":       whole(func(g *Gen) string { return "ya29." + g.URL(120) }),
	"google-oauth-refresh-token":      whole(func(g *Gen) string { return "1//0" + g.URL(60) }),
	"azure-storage-account-key":       pair("DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=", func(g *Gen) string { return g.B64(86) + "==" }),
	"azure-shared-access-key":         pair("Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey=", func(g *Gen) string { return g.B64(43) + "=" }),
	"azure-sas-signature":             pair("https://acme.blob.core.windows.net/c/b.txt?sv=2022-11-02&sr=b&sig=", func(g *Gen) string { return g.An(43) + "%3D" }),
	"azure-ad-client-secret":          whole(func(g *Gen) string { return g.An(3) + g.Dig(1) + "Q~" + g.URL(34) }),
	"alibaba-access-key-id":           whole(func(g *Gen) string { return "LTAI" + g.An(20) }),
	"tencent-secret-id":               whole(func(g *Gen) string { return "AKID" + g.An(32) }),
	"digitalocean-pat":                whole(func(g *Gen) string { return "dop_v1_" + g.Hex(64) }),
	"digitalocean-oauth-token":        whole(func(g *Gen) string { return "doo_v1_" + g.Hex(64) }),
	"digitalocean-refresh-token":      whole(func(g *Gen) string { return "dor_v1_" + g.Hex(64) }),
	"cloudflare-origin-ca-key":        whole(func(g *Gen) string { return "v1.0-" + g.Hex(24) + "-" + g.Hex(146) }),
	"fly-io-token":                    whole(func(g *Gen) string { return "fo1_" + g.URL(43) }),
	"heroku-api-key":                  whole(func(g *Gen) string { return "HRKU-" + g.URL(60) }),
	"databricks-token":                whole(func(g *Gen) string { return "dapi" + g.Hex(32) }),
	"openshift-token":                 whole(func(g *Gen) string { return "sha256~" + g.URL(43) }),
	"scalingo-api-token":              whole(func(g *Gen) string { return "tk-us-" + g.URL(48) }),
	"planetscale-password":            whole(func(g *Gen) string { return "pscale_pw_" + g.URL(43) }),
	"planetscale-api-token":           whole(func(g *Gen) string { return "pscale_tkn_" + g.URL(43) }),
	"planetscale-oauth-token":         whole(func(g *Gen) string { return "pscale_oauth_" + g.URL(43) }),
	"supabase-management-token":       whole(func(g *Gen) string { return "sbp_" + g.Hex(40) }),
	"supabase-secret-key":             whole(func(g *Gen) string { return "sb_secret_" + g.URL(31) }),
	"doppler-token":                   whole(func(g *Gen) string { return "dp.pt." + g.An(43) }),
	"pulumi-access-token":             whole(func(g *Gen) string { return "pul-" + g.Hex(40) }),
	"terraform-cloud-token":           whole(func(g *Gen) string { return g.An(14) + ".atlasv1." + g.URL(67) }),
	"vault-service-token":             whole(func(g *Gen) string { return "hvs." + g.URL(90) }),
	"vault-batch-token":               whole(func(g *Gen) string { return "hvb." + g.URL(120) }),
	"vault-recovery-token":            whole(func(g *Gen) string { return "hvr." + g.URL(90) }),
	"1password-service-account-token": whole(func(g *Gen) string { return "ops_eyJ" + g.B64(300) }),
	"1password-secret-key": whole(func(g *Gen) string {
		return "A3-" + g.Up(6) + "-" + g.Up(11) + "-" + g.Up(5) + "-" + g.Up(5) + "-" + g.Up(5)
	}),
	"age-secret-key": whole(func(g *Gen) string { return "AGE-SECRET-KEY-1" + g.From("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58) }),

	"github-pat":                       whole(func(g *Gen) string { return "ghp_" + g.An(36) }),
	"github-fine-grained-pat":          whole(func(g *Gen) string { return "github_pat_" + g.An(22) + "_" + g.An(59) }),
	"github-oauth-token":               whole(func(g *Gen) string { return "gho_" + g.An(36) }),
	"github-app-token":                 whole(func(g *Gen) string { return "ghs_" + g.An(36) }),
	"github-refresh-token":             whole(func(g *Gen) string { return "ghr_" + g.An(76) }),
	"gitlab-pat":                       whole(func(g *Gen) string { return "glpat-" + g.URL(20) }),
	"gitlab-pipeline-trigger-token":    whole(func(g *Gen) string { return "glptt-" + g.Hex(40) }),
	"gitlab-runner-token":              whole(func(g *Gen) string { return "glrt-" + g.URL(20) }),
	"gitlab-runner-registration-token": whole(func(g *Gen) string { return "GR1348941" + g.URL(20) }),
	"gitlab-deploy-token":              whole(func(g *Gen) string { return "gldt-" + g.URL(20) }),
	"gitlab-feed-token":                whole(func(g *Gen) string { return "glft-" + g.URL(20) }),
	"gitlab-oauth-app-secret":          whole(func(g *Gen) string { return "gloas-" + g.Hex(64) }),
	"gitlab-incoming-mail-token":       whole(func(g *Gen) string { return "glimt-" + g.Lo(25) }),
	"gitlab-cicd-job-token":            whole(func(g *Gen) string { return "glcbt-" + g.URL(30) }),
	"gitlab-scim-token":                whole(func(g *Gen) string { return "glsoat-" + g.URL(20) }),
	"gitlab-agent-token":               whole(func(g *Gen) string { return "glagent-" + g.URL(50) }),
	"bitbucket-app-password":           whole(func(g *Gen) string { return "ATBB" + g.An(32) }),
	"atlassian-api-token":              whole(func(g *Gen) string { return "ATATT3" + g.URL(186) }),
	"npm-token":                        whole(func(g *Gen) string { return "npm_" + g.An(36) }),
	"npmrc-auth-token":                 pair("//registry.npmjs.org/:_authToken=", func(g *Gen) string { return g.UUID() }),
	"pypi-token":                       whole(func(g *Gen) string { return "pypi-AgEIcHlwaS5vcmc" + g.URL(70) }),
	"rubygems-api-key":                 whole(func(g *Gen) string { return "rubygems_" + g.Hex(48) }),
	"clojars-token":                    whole(func(g *Gen) string { return "CLOJARS_" + g.Lo(60) }),
	"docker-hub-pat":                   whole(func(g *Gen) string { return "dckr_pat_" + g.URL(27) }),
	"jfrog-api-key":                    whole(func(g *Gen) string { return "AKCp" + g.An(69) }),
	"jfrog-reference-token":            whole(func(g *Gen) string { return "cmVmdGtu" + g.An(56) }),
	"prefect-api-key":                  whole(func(g *Gen) string { return "pnu_" + g.An(36) }),
	"readme-api-key":                   whole(func(g *Gen) string { return "rdme_" + g.Lo(70) }),
	"harness-pat":                      whole(func(g *Gen) string { return "pat." + g.URL(22) + "." + g.Hex(24) + "." + g.An(20) }),

	"slack-bot-token":    whole(func(g *Gen) string { return "xoxb-" + g.Dig(11) + "-" + g.Dig(12) + "-" + g.An(24) }),
	"slack-user-token":   whole(func(g *Gen) string { return "xoxp-" + g.Dig(11) + "-" + g.Dig(11) + "-" + g.Dig(12) + "-" + g.Hex(32) }),
	"slack-app-token":    whole(func(g *Gen) string { return "xapp-1-A" + g.Up(10) + "-" + g.Dig(13) + "-" + g.Hex(64) }),
	"slack-config-token": whole(func(g *Gen) string { return "xoxe.xoxp-1-" + g.Up(164) }),
	"slack-legacy-token": whole(func(g *Gen) string { return "xoxs-" + g.Dig(10) + "-" + g.Dig(10) + "-" + g.An(40) }),
	"slack-webhook-url": whole(func(g *Gen) string {
		return "https://hooks.slack.com/services/T" + g.Up(8) + "/B" + g.Up(10) + "/" + g.An(24)
	}),
	"discord-webhook-url": whole(func(g *Gen) string { return "https://discord.com/api/webhooks/" + g.Dig(18) + "/" + g.URL(68) }),
	"discord-bot-token":   pair("DISCORD_BOT_TOKEN=", func(g *Gen) string { return g.URL(24) + "." + g.URL(6) + "." + g.URL(38) }),
	"telegram-bot-token":  whole(func(g *Gen) string { return g.Dig(10) + ":AA" + g.URL(33) }),
	"microsoft-teams-webhook-url": whole(func(g *Gen) string {
		return "https://acme.webhook.office.com/webhookb2/" + g.UUID() + "@" + g.UUID() + "/IncomingWebhook/" + g.Hex(32) + "/" + g.UUID()
	}),
	"linear-api-key":            whole(func(g *Gen) string { return "lin_api_" + g.An(40) }),
	"notion-token":              whole(func(g *Gen) string { return "ntn_" + g.Dig(11) + g.An(35) }),
	"figma-pat":                 whole(func(g *Gen) string { return "figd_" + g.URL(40) }),
	"contentful-pat":            whole(func(g *Gen) string { return "CFPAT-" + g.URL(43) }),
	"typeform-pat":              whole(func(g *Gen) string { return "tfp_" + g.URL(59) }),
	"frameio-token":             whole(func(g *Gen) string { return "fio-u-" + g.URL(64) }),
	"postman-api-key":           whole(func(g *Gen) string { return "PMAK-" + g.Hex(24) + "-" + g.Hex(34) }),
	"stripe-secret-key":         whole(func(g *Gen) string { return "sk_live_" + g.An(99) }),
	"stripe-restricted-key":     whole(func(g *Gen) string { return "rk_test_" + g.An(48) }),
	"stripe-webhook-secret":     whole(func(g *Gen) string { return "whsec_" + g.An(32) }),
	"square-access-token":       whole(func(g *Gen) string { return "sq0atp-" + g.URL(22) }),
	"square-oauth-secret":       whole(func(g *Gen) string { return "sq0csp-" + g.URL(43) }),
	"shopify-access-token":      whole(func(g *Gen) string { return "shpat_" + g.Hex(32) }),
	"shopify-custom-app-token":  whole(func(g *Gen) string { return "shpca_" + g.Hex(32) }),
	"shopify-private-app-token": whole(func(g *Gen) string { return "shppa_" + g.Hex(32) }),
	"shopify-shared-secret":     whole(func(g *Gen) string { return "shpss_" + g.Hex(32) }),
	"twilio-api-key":            whole(func(g *Gen) string { return "SK" + g.Hex(32) }),
	"twilio-auth-token":         pair("TWILIO_AUTH_TOKEN=", func(g *Gen) string { return g.Hex(32) }),
	"sendgrid-api-key":          whole(func(g *Gen) string { return "SG." + g.URL(22) + "." + g.URL(43) }),
	"mailgun-api-key":           whole(func(g *Gen) string { return "key-" + g.Hex(32) }),
	"mailchimp-api-key":         whole(func(g *Gen) string { return g.Hex(32) + "-us14" }),
	"shippo-api-token":          whole(func(g *Gen) string { return "shippo_live_" + g.Hex(40) }),
	"easypost-api-key":          whole(func(g *Gen) string { return "EZAK" + g.An(54) }),
	"flutterwave-secret-key":    whole(func(g *Gen) string { return "FLWSECK_TEST-" + g.From("abcdefgh0123456789", 32) + "-X" }),
	"duffel-api-token":          whole(func(g *Gen) string { return "duffel_test_" + g.URL(43) }),
	"facebook-access-token":     whole(func(g *Gen) string { return "EAAC" + g.An(120) }),
	"mapbox-secret-token":       whole(func(g *Gen) string { return "sk.eyJ" + g.URL(60) + "." + g.URL(22) }),
	"dropbox-access-token":      whole(func(g *Gen) string { return "sl." + g.URL(138) }),
	"datadog-api-key":           pair("DD_API_KEY=", func(g *Gen) string { return g.Hex(32) }),
	"datadog-app-key":           pair("datadog_app_key: ", func(g *Gen) string { return g.Hex(40) }),
	"new-relic-user-api-key":    whole(func(g *Gen) string { return "NRAK-" + g.Up(27) }),
	"new-relic-insert-key":      whole(func(g *Gen) string { return "NRII-" + g.URL(32) }),
	"new-relic-browser-key":     whole(func(g *Gen) string { return "NRJS-" + g.Hex(19) }),
	"new-relic-license-key":     whole(func(g *Gen) string { return g.Hex(36) + "NRAL" }),
	"sentry-auth-token":         whole(func(g *Gen) string { return "sntryu_" + g.Hex(64) }),
	"sentry-dsn-key": func(g *Gen) (string, string) {
		k := g.Hex(32)
		return k, "SENTRY_DSN=https://" + k + "@o" + g.Dig(6) + ".ingest.sentry.io/" + g.Dig(7)
	},
	"grafana-api-key":               whole(func(g *Gen) string { return "eyJrIjoi" + g.An(100) }),
	"grafana-cloud-token":           whole(func(g *Gen) string { return "glc_" + g.An(60) }),
	"grafana-service-account-token": whole(func(g *Gen) string { return "glsa_" + g.An(32) + "_" + g.Hex(8) }),
	"dynatrace-token":               whole(func(g *Gen) string { return "dt0c01." + g.Up(24) + "." + g.Up(64) }),
	"langsmith-api-key":             whole(func(g *Gen) string { return "lsv2_pt_" + g.Hex(32) + "_" + g.Hex(10) }),
	"openai-api-key":                whole(func(g *Gen) string { return "sk-" + g.An(20) + "T3BlbkFJ" + g.An(20) }),
	"openai-project-key":            whole(func(g *Gen) string { return "sk-proj-" + g.URL(120) }),
	"anthropic-api-key":             whole(func(g *Gen) string { return "sk-ant-api03-" + g.URL(93) + "AA" }),
	"anthropic-admin-key":           whole(func(g *Gen) string { return "sk-ant-admin01-" + g.URL(93) + "AA" }),
	"huggingface-token":             whole(func(g *Gen) string { return "hf_" + g.Let(34) }),
	"huggingface-org-token":         whole(func(g *Gen) string { return "api_org_" + g.Let(34) }),
	"replicate-api-token":           whole(func(g *Gen) string { return "r8_" + g.An(37) }),
	"groq-api-key":                  whole(func(g *Gen) string { return "gsk_" + g.An(52) }),
	"perplexity-api-key":            whole(func(g *Gen) string { return "pplx-" + g.An(48) }),
	"xai-api-key":                   whole(func(g *Gen) string { return "xai-" + g.An(80) }),

	"jwt": whole(func(g *Gen) string {
		return "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ" + g.URL(60) + "." + g.URL(43)
	}),
	"private-key": func(g *Gen) (string, string) {
		body := g.B64(64) + "\n" + g.B64(64) + "\n" + g.B64(20)
		s := "-----BEGIN RSA PRIVATE KEY-----\n" + body + "\n-----END RSA PRIVATE KEY-----"
		return body, `{"type": "service_account", "private_key": "` + s + `"}`
	},
	"putty-private-key": func(g *Gen) (string, string) {
		body := g.B64(64)
		return body, "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPrivate-Lines: 1\n" + body + "\nPrivate-MAC: " + g.Hex(64)
	},
	"bearer-token": pair("Authorization header was Bearer ", func(g *Gen) string { return g.URL(48) }),
	"basic-auth": func(g *Gen) (string, string) {
		s := base64.StdEncoding.EncodeToString([]byte("deploy:" + g.An(16)))
		return s, "upstream said: Basic " + s + " rejected"
	},
	"authorization-header": pair("GET /v1/items HTTP/1.1\r\nAuthorization: Token ", func(g *Gen) string { return g.An(40) }),
	"cookie-header":        pair("request headers: Cookie: ", func(g *Gen) string { return "sessionid=" + g.An(32) + "; csrftoken=" + g.An(32) }),
	"api-key-header":       pair("curl -H 'X-Api-Key: ", func(g *Gen) string { return g.An(32) }),
	"url-password": func(g *Gen) (string, string) {
		p := g.An(20)
		return p, "postgres://app:" + p + "@db.internal:5432/orders?sslmode=disable"
	},
	"mysql-dsn-password": func(g *Gen) (string, string) {
		p := g.An(18)
		return p, "dsn=app:" + p + "@tcp(mysql.internal:3306)/shop?parseTime=true"
	},
	"connection-string-password": pair("Server=sql.internal;Database=crm;User Id=app;Password=", func(g *Gen) string { return g.An(20) }),
	"sensitive-query-param":      pair("https://api.example.com/v1/export?format=csv&access_token=", func(g *Gen) string { return g.An(40) }),
	"password-assignment":        pair("config loaded: smtp_password: ", func(g *Gen) string { return g.An(14) }),
	"generic-secret":             pair("client_secret = ", func(g *Gen) string { return g.URL(40) }),
}

// Samples returns n samples per built-in rule name in names, each from g.
// A name without a generator is reported in missing.
func Samples(g *Gen, names []string, n int) (out []Sample, missing []string) {
	for _, name := range names {
		f, ok := generators[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		for i := 0; i < n; i++ {
			s, text := f(g)
			out = append(out, Sample{Rule: name, Secret: s, Text: text})
		}
	}
	return out, missing
}

// Benign returns n realistic values that hold no credential: trace and
// span IDs, commit SHAs, UUIDs in paths, image digests, ordinary words,
// URLs without credentials, SQL, file paths, base64 blobs of documents
// and of binary content.
func Benign(g *Gen, n int) []string {
	words := []string{"reading", "configuration", "workspace", "upload", "response", "completed", "timeout", "extension", "weather", "forecast", "notes", "summary", "library", "capability", "denied", "allowed", "request"}
	hosts := []string{"api.weather.example.com", "docs.example.org", "api.github.com", "status.example.net", "registry.npmjs.org"}
	out := make([]string, 0, n)
	for i := 0; len(out) < n; i++ {
		w := words[g.R.IntN(len(words))]
		h := hosts[g.R.IntN(len(hosts))]
		switch i % 14 {
		case 0:
			out = append(out, g.Hex(32)) // trace id
		case 1:
			out = append(out, g.Hex(16)) // span id
		case 2:
			out = append(out, g.Hex(40)) // commit sha
		case 3:
			out = append(out, "/workspace/"+w+"/"+g.UUID()+"/data.json")
		case 4:
			out = append(out, w+" "+words[g.R.IntN(len(words))]+" in "+g.Dig(3)+" ms")
		case 5:
			out = append(out, "https://"+h+"/v1/"+w+"/"+g.Dig(5)+"?page="+g.Dig(1)+"&sort=asc")
		case 6:
			out = append(out, "SELECT id, name FROM orders WHERE customer_id = "+g.Dig(6)+" AND status = 'open'")
		case 7:
			out = append(out, "/home/agent/.cache/"+w+"/"+w+"-"+g.Dig(2)+".json")
		case 8:
			out = append(out, "sha256:"+g.Hex(64)) // image digest
		case 9:
			out = append(out, "GET /repos/acme/"+w+"/commits/"+g.Hex(40))
		case 10:
			out = append(out, g.UUID())
		case 11:
			out = append(out, "fetch "+h+" "+w+" ok")
		case 12: // a base64 blob of a non-secret document
			doc := `{"page":` + g.Dig(2) + `,"query":"` + w + `","lang":"en","results":[` + g.Dig(4) + `,` + g.Dig(4) + `]}`
			out = append(out, base64.StdEncoding.EncodeToString([]byte(doc)))
		case 13: // binary content, base64 in a data URL
			raw := make([]byte, 48+g.R.IntN(48))
			for j := range raw {
				raw[j] = byte(g.R.IntN(256))
			}
			out = append(out, "data:image/png;base64,"+base64.StdEncoding.EncodeToString(raw))
		}
	}
	return out
}
