package secrets

// Built-in credential rules. Every rule names the literal text its format
// always contains as keywords, so its regex only ever runs on values that
// could hold it. Formats follow the vendors' published token layouts.

// t returns a rule whose secret is the whole match.
func t(name, re string, kws ...string) Rule { return Rule{Name: name, Regex: re, Keywords: kws} }

// kv returns a rule for "<key> = <secret>" forms, with an entropy floor.
func kv(name, re string, entropy float64, kws ...string) Rule {
	return Rule{Name: name, Regex: re, Keywords: kws, Entropy: entropy}
}

// assign is the separator between a key and its value in code, config,
// JSON, env files and headers.
const assign = `["']?\s*(?:=|:|:=|=>)\s*["']?`

// Builtin returns the built-in rule set (a fresh copy).
func Builtin() []Rule {
	rs := []Rule{
		// Cloud providers.
		t("aws-access-key-id", `\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b`, "akia", "asia", "abia", "acca", "a3t"),
		kv("aws-secret-access-key", `(?i)aws_?secret_?(?:access_?)?key`+assign+`(?P<s>[A-Za-z0-9/+=]{40})(?:[^A-Za-z0-9/+=]|$)`, 3.0, "aws_secret", "awssecret", "aws-secret", "secret_access_key", "secretaccesskey"),
		kv("aws-session-token", `(?i)(?:aws_session_token|x-amz-security-token)`+assign+`(?P<s>[A-Za-z0-9/+=%]{100,})`, 0, "aws_session_token", "x-amz-security-token"),
		t("aws-mws-key", `amzn\.mws\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`, "amzn.mws."),
		t("gcp-api-key", `\bAIza[0-9A-Za-z_-]{35}`, "aiza"),
		t("gcp-service-account-key-id", `"private_key_id"\s*:\s*"(?P<s>[0-9a-f]{40})`, "private_key_id"),
		t("gcp-oauth-client-secret", `GOCSPX-[A-Za-z0-9_-]{28}`, "gocspx-"),
		t("google-oauth-access-token", `\bya29\.[0-9A-Za-z_-]{20,}`, "ya29."),
		t("google-oauth-refresh-token", `\b1//0[0-9A-Za-z_-]{40,}`, "1//0"),
		t("azure-storage-account-key", `(?i)AccountKey=(?P<s>[A-Za-z0-9+/]{86}==)`, "accountkey="),
		t("azure-shared-access-key", `(?i)SharedAccessKey=(?P<s>[A-Za-z0-9+/]{42,44}=?)`, "sharedaccesskey="),
		t("azure-sas-signature", `(?i)[?&;]sig=(?P<s>[A-Za-z0-9%+/]{40,}(?:%3D|=)*)`, "sig="),
		t("azure-ad-client-secret", `\b[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}`, "q~"),
		t("alibaba-access-key-id", `\bLTAI[A-Za-z0-9]{20}\b`, "ltai"),
		t("tencent-secret-id", `\bAKID[A-Za-z0-9]{32}\b`, "akid"),
		t("digitalocean-pat", `\bdop_v1_[a-f0-9]{64}`, "dop_v1_"),
		t("digitalocean-oauth-token", `\bdoo_v1_[a-f0-9]{64}`, "doo_v1_"),
		t("digitalocean-refresh-token", `\bdor_v1_[a-f0-9]{64}`, "dor_v1_"),
		t("cloudflare-origin-ca-key", `\bv1\.0-[a-f0-9]{24}-[a-f0-9]{146}`, "v1.0-"),
		t("fly-io-token", `\b(?:fo1_[A-Za-z0-9_-]{43}|FlyV1 fm[12]_[A-Za-z0-9+/=,_-]{100,})`, "fo1_", "flyv1 fm"),
		t("heroku-api-key", `\bHRKU-[A-Za-z0-9_-]{60}`, "hrku-"),
		t("databricks-token", `\bdapi[a-f0-9]{32}(?:-[0-9])?\b`, "dapi"),
		t("openshift-token", `\bsha256~[A-Za-z0-9_-]{43}`, "sha256~"),
		t("scalingo-api-token", `\btk-us-[A-Za-z0-9_-]{48}`, "tk-us-"),
		t("planetscale-password", `\bpscale_pw_[A-Za-z0-9_.-]{32,64}`, "pscale_pw_"),
		t("planetscale-api-token", `\bpscale_tkn_[A-Za-z0-9_.-]{32,64}`, "pscale_tkn_"),
		t("planetscale-oauth-token", `\bpscale_oauth_[A-Za-z0-9_.-]{32,64}`, "pscale_oauth_"),
		t("supabase-management-token", `\bsbp_[a-f0-9]{40}`, "sbp_"),
		t("supabase-secret-key", `\bsb_secret_[A-Za-z0-9_-]{31}`, "sb_secret_"),
		t("doppler-token", `\bdp\.(?:pt|st|ct|sa|scim|audit)\.[A-Za-z0-9]{40,44}`, "dp.pt.", "dp.st.", "dp.ct.", "dp.sa.", "dp.scim.", "dp.audit."),
		t("pulumi-access-token", `\bpul-[a-f0-9]{40}`, "pul-"),
		t("terraform-cloud-token", `\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}`, ".atlasv1."),
		t("vault-service-token", `\bhvs\.[A-Za-z0-9_-]{24,}`, "hvs."),
		t("vault-batch-token", `\bhvb\.[A-Za-z0-9_-]{24,}`, "hvb."),
		t("vault-recovery-token", `\bhvr\.[A-Za-z0-9_-]{24,}`, "hvr."),
		t("1password-service-account-token", `\bops_eyJ[A-Za-z0-9+/]{250,}={0,3}`, "ops_eyj"),
		t("1password-secret-key", `\bA3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}\b`, "a3-"),
		t("age-secret-key", `AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}`, "age-secret-key-1"),

		// Source control and package registries.
		t("github-pat", `\bghp_[0-9A-Za-z]{36}\b`, "ghp_"),
		t("github-fine-grained-pat", `\bgithub_pat_[0-9A-Za-z]{22}_[0-9A-Za-z]{59}\b`, "github_pat_"),
		t("github-oauth-token", `\bgho_[0-9A-Za-z]{36}\b`, "gho_"),
		t("github-app-token", `\b(?:ghu|ghs)_[0-9A-Za-z]{36}\b`, "ghu_", "ghs_"),
		t("github-refresh-token", `\bghr_[0-9A-Za-z]{36,76}\b`, "ghr_"),
		t("gitlab-pat", `\bglpat-[0-9A-Za-z_-]{20,}`, "glpat-"),
		t("gitlab-pipeline-trigger-token", `\bglptt-[0-9a-f]{40}`, "glptt-"),
		t("gitlab-runner-token", `\bglrt-[0-9A-Za-z_-]{20,}`, "glrt-"),
		t("gitlab-runner-registration-token", `\bGR1348941[0-9A-Za-z_-]{20,}`, "gr1348941"),
		t("gitlab-deploy-token", `\bgldt-[0-9A-Za-z_-]{20,}`, "gldt-"),
		t("gitlab-feed-token", `\bglft-[0-9A-Za-z_-]{20,}`, "glft-"),
		t("gitlab-oauth-app-secret", `\bgloas-[0-9a-f]{64}`, "gloas-"),
		t("gitlab-incoming-mail-token", `\bglimt-[0-9A-Za-z_-]{25}`, "glimt-"),
		t("gitlab-cicd-job-token", `\bglcbt-[0-9A-Za-z_-]{20,}`, "glcbt-"),
		t("gitlab-scim-token", `\bglsoat-[0-9A-Za-z_-]{20,}`, "glsoat-"),
		t("gitlab-agent-token", `\bglagent-[0-9A-Za-z_-]{50,}`, "glagent-"),
		t("bitbucket-app-password", `\bATBB[A-Za-z0-9_=.-]{32}`, "atbb"),
		t("atlassian-api-token", `\bATATT3[A-Za-z0-9_=-]{100,}`, "atatt3"),
		t("npm-token", `\bnpm_[A-Za-z0-9]{36}\b`, "npm_"),
		kv("npmrc-auth-token", `(?i)_authToken\s*=\s*(?P<s>[A-Za-z0-9_./+=-]{20,})`, 3.0, "_authtoken"),
		t("pypi-token", `\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}`, "pypi-ageichlwas5vcmc"),
		t("rubygems-api-key", `\brubygems_[a-f0-9]{48}`, "rubygems_"),
		t("clojars-token", `\bCLOJARS_[a-z0-9]{60}`, "clojars_"),
		t("docker-hub-pat", `\bdckr_pat_[A-Za-z0-9_-]{27}`, "dckr_pat_"),
		t("jfrog-api-key", `\bAKCp[A-Za-z0-9]{69}`, "akcp"),
		t("jfrog-reference-token", `\bcmVmdGtu[A-Za-z0-9]{56}`, "cmvmdgtu"),
		t("prefect-api-key", `\bpnu_[A-Za-z0-9]{36}`, "pnu_"),
		t("readme-api-key", `\brdme_[a-z0-9]{70}`, "rdme_"),
		t("harness-pat", `\bpat\.[A-Za-z0-9_-]{22}\.[0-9a-f]{24}\.[A-Za-z0-9]{20}`, "pat."),

		// Chat and collaboration.
		t("slack-bot-token", `\bxoxb-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24,34}`, "xoxb-"),
		t("slack-user-token", `\bxox[pe](?:-[0-9]{10,13}){3}-[A-Za-z0-9-]{28,34}`, "xoxp-", "xoxe-"),
		t("slack-app-token", `\bxapp-[0-9]-[A-Z0-9]+-[0-9]+-[a-z0-9]+`, "xapp-"),
		t("slack-config-token", `\bxoxe\.xox[bp]-[0-9]-[A-Z0-9]{163,166}`, "xoxe.xox"),
		t("slack-legacy-token", `\bxox[aors]-(?:[0-9]+-)+[A-Za-z0-9]+`, "xoxa-", "xoxo-", "xoxs-", "xoxr-"),
		t("slack-webhook-url", `hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,}`, "hooks.slack.com/"),
		t("discord-webhook-url", `(?:discord|discordapp)\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,70}`, "discord.com/api/webhooks", "discordapp.com/api/webhooks"),
		kv("discord-bot-token", `(?i)discord[a-z_ .-]{0,20}(?:token|secret)`+assign+`(?P<s>[A-Za-z0-9._-]{59,72})`, 3.5, "discord"),
		t("telegram-bot-token", `\b[0-9]{8,10}:AA[0-9A-Za-z_-]{33}`, ":aa"),
		t("microsoft-teams-webhook-url", `(?i)[a-z0-9-]+\.webhook\.office\.com/webhookb2/[a-z0-9@-]{36,}/IncomingWebhook/[a-z0-9]{32}/[a-z0-9-]{36}`, ".webhook.office.com/"),
		t("linear-api-key", `\blin_api_[A-Za-z0-9]{40}`, "lin_api_"),
		t("notion-token", `\bntn_[0-9]{11}[A-Za-z0-9]{35}`, "ntn_"),
		t("figma-pat", `\bfigd_[A-Za-z0-9_-]{40}`, "figd_"),
		t("contentful-pat", `\bCFPAT-[A-Za-z0-9_-]{43}`, "cfpat-"),
		t("typeform-pat", `\btfp_[A-Za-z0-9_.=-]{59}`, "tfp_"),
		t("frameio-token", `\bfio-u-[A-Za-z0-9_=-]{64}`, "fio-u-"),
		t("postman-api-key", `\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}`, "pmak-"),

		// Payments, e-mail and commerce.
		t("stripe-secret-key", `\bsk_(?:live|test)_[0-9A-Za-z]{24,99}`, "sk_live_", "sk_test_"),
		t("stripe-restricted-key", `\brk_(?:live|test)_[0-9A-Za-z]{24,99}`, "rk_live_", "rk_test_"),
		t("stripe-webhook-secret", `\bwhsec_[A-Za-z0-9+/=]{32,}`, "whsec_"),
		t("square-access-token", `\b(?:sq0atp-[0-9A-Za-z_-]{22}|EAAA[A-Za-z0-9_-]{60})`, "sq0atp-", "eaaa"),
		t("square-oauth-secret", `\bsq0csp-[0-9A-Za-z_-]{43}`, "sq0csp-"),
		t("shopify-access-token", `\bshpat_[a-fA-F0-9]{32}`, "shpat_"),
		t("shopify-custom-app-token", `\bshpca_[a-fA-F0-9]{32}`, "shpca_"),
		t("shopify-private-app-token", `\bshppa_[a-fA-F0-9]{32}`, "shppa_"),
		t("shopify-shared-secret", `\bshpss_[a-fA-F0-9]{32}`, "shpss_"),
		t("twilio-api-key", `\bSK[0-9a-f]{32}\b`, "sk"),
		kv("twilio-auth-token", `(?i)twilio[a-z_ .-]{0,20}(?:auth|token|secret)[a-z_]*`+assign+`(?P<s>[0-9a-f]{32})`, 0, "twilio"),
		t("sendgrid-api-key", `\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}`, "sg."),
		t("mailgun-api-key", `\bkey-[0-9a-f]{32}\b`, "key-"),
		t("mailchimp-api-key", `\b[0-9a-f]{32}-us[0-9]{1,2}\b`, "-us"),
		t("shippo-api-token", `\bshippo_(?:live|test)_[a-f0-9]{40}`, "shippo_live_", "shippo_test_"),
		t("easypost-api-key", `\bEZ[AT]K[A-Za-z0-9]{54}`, "ezak", "eztk"),
		t("flutterwave-secret-key", `\bFLWSECK(?:_TEST)?-[a-h0-9]{32}-X`, "flwseck"),
		t("duffel-api-token", `\bduffel_(?:test|live)_[A-Za-z0-9_=-]{43}`, "duffel_test_", "duffel_live_"),
		t("facebook-access-token", `\bEAA[BCDGIMQU][A-Za-z0-9]{90,}`, "eaa"),
		t("mapbox-secret-token", `\bsk\.eyJ[A-Za-z0-9_-]{50,}\.[A-Za-z0-9_-]{20,}`, "sk.eyj"),
		t("dropbox-access-token", `\bsl\.[A-Za-z0-9_-]{130,}`, "sl."),

		// Observability.
		kv("datadog-api-key", `(?i)(?:datadog|dd)[_-]?api[_-]?key`+assign+`(?P<s>[0-9a-f]{32})\b`, 0, "datadog", "dd_api", "dd-api", "ddapi"),
		kv("datadog-app-key", `(?i)(?:datadog|dd)[_-]?app(?:lication)?[_-]?key`+assign+`(?P<s>[0-9a-f]{40})\b`, 0, "datadog", "dd_app", "dd-app", "ddapp"),
		t("new-relic-user-api-key", `\bNRAK-[A-Z0-9]{27}`, "nrak-"),
		t("new-relic-insert-key", `\bNRII-[A-Za-z0-9_-]{32}`, "nrii-"),
		t("new-relic-browser-key", `\bNRJS-[a-f0-9]{19}`, "nrjs-"),
		t("new-relic-license-key", `\b[a-f0-9]{36}NRAL\b`, "nral"),
		t("sentry-auth-token", `\b(?:sntrys_[A-Za-z0-9+/=_]{50,}|sntryu_[0-9a-f]{64})`, "sntrys_", "sntryu_"),
		t("sentry-dsn-key", `(?P<s>[0-9a-f]{32})@[a-z0-9.-]*sentry\.io`, "sentry.io"),
		t("grafana-api-key", `\beyJrIjoi[A-Za-z0-9]{70,400}={0,2}`, "eyjrijoi"),
		t("grafana-cloud-token", `\bglc_[A-Za-z0-9+/]{32,400}={0,2}`, "glc_"),
		t("grafana-service-account-token", `\bglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}`, "glsa_"),
		t("dynatrace-token", `\bdt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}`, "dt0c01."),
		t("langsmith-api-key", `\blsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}`, "lsv2_pt_", "lsv2_sk_"),

		// AI providers.
		t("openai-api-key", `\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}`, "t3blbkfj"),
		t("openai-project-key", `\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}`, "sk-proj-", "sk-svcacct-", "sk-admin-"),
		t("anthropic-api-key", `\bsk-ant-api0[0-9]-[A-Za-z0-9_-]{80,}`, "sk-ant-api0"),
		t("anthropic-admin-key", `\bsk-ant-admin0[0-9]-[A-Za-z0-9_-]{80,}`, "sk-ant-admin0"),
		t("huggingface-token", `\bhf_[A-Za-z]{34}\b`, "hf_"),
		t("huggingface-org-token", `\bapi_org_[A-Za-z]{34}\b`, "api_org_"),
		t("replicate-api-token", `\br8_[A-Za-z0-9]{37}\b`, "r8_"),
		t("groq-api-key", `\bgsk_[A-Za-z0-9]{52}\b`, "gsk_"),
		t("perplexity-api-key", `\bpplx-[A-Za-z0-9]{48}\b`, "pplx-"),
		t("xai-api-key", `\bxai-[A-Za-z0-9]{80}\b`, "xai-"),

		// Generic formats: tokens, keys, headers, connection strings.
		t("jwt", `\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}`, "eyj"),
		t("private-key", `-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\]*)`, "-----begin"),
		t("putty-private-key", `PuTTY-User-Key-File-[0-9]:[\s\S]*?(?:Private-MAC: [0-9a-f]+|$)`, "putty-user-key-file-"),
		kv("bearer-token", `(?i)\bbearer\s+(?P<s>[A-Za-z0-9\-._~+/]{8,}=*)`, 2.5, "bearer"),
		{Name: "basic-auth", Regex: `(?i)\bbasic\s+(?P<s>[A-Za-z0-9+/]{8,}={0,2})`, Keywords: []string{"basic"}, check: basicCredential},
		t("authorization-header", `(?i)\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?P<s>[^\s"',;]+(?:[ \t]+[^\s"',;]+)?)`, "authorization"),
		t("cookie-header", `(?i)\b(?:set-)?cookie["']?\s*:\s*(?P<s>[^\r\n"]+)`, "cookie"),
		t("api-key-header", `(?i)\bx-(?:api|auth|access)-(?:key|token)["']?\s*[:=]\s*["']?(?P<s>[^\s"',;]+)`, "x-api-", "x-auth-", "x-access-"),
		{Name: "url-password", Keywords: []string{"://"}, find: findURLPassword},
		t("mysql-dsn-password", `[A-Za-z0-9_.-]+:(?P<s>[^@\s/:]+)@(?:tcp|unix)\(`, "@tcp(", "@unix("),
		t("connection-string-password", `(?i)(?:^|[;\s"'])(?:password|pwd)\s*=\s*(?P<s>[^;\s"']+)`, "password", "pwd"),
		// find is what runs; Regex says the same for readers and for the
		// benchmark's redaction-processor equivalent.
		{Name: "sensitive-query-param", find: findQueryParam,
			Regex:    `(?i)[?&;](?:access_token|refresh_token|id_token|auth_token|token|api_key|apikey|api-key|key|password|passwd|pwd|secret|client_secret|signature|x-amz-signature|x-amz-credential|x-goog-signature|x-goog-credential|credential|auth|code|sessionid|session_id|jwt)=(?P<s>[^&#\s"']+)`,
			Keywords: []string{"token=", "key=", "password=", "passwd=", "pwd=", "secret=", "signature=", "credential=", "auth=", "code=", "sessionid=", "session_id=", "jwt="}},
		kv("password-assignment", `(?i)\b[a-z0-9_.-]*(?:password|passwd|passphrase)`+assign+`(?P<s>[^\s"'&;,}]{3,})`, 0, "password", "passwd", "passphrase"),
		kv("generic-secret", `(?i)\b[a-z0-9_.-]*(?:secret|token|api[_-]?key|access[_-]?key|auth[_-]?key|private[_-]?key|credentials?)`+assign+`(?P<s>[A-Za-z0-9_\-+/=.~]{12,})`, 3.3,
			"secret", "token", "api_key", "apikey", "api-key", "access_key", "accesskey", "access-key", "auth_key", "authkey", "auth-key", "private_key", "privatekey", "private-key", "credential"),
	}
	return append(rs, gitleaksRules()...)
}

// GitleaksRuleNames are the built-in rules ported from gitleaks; the
// gitleaks-parity test module generates their samples from the regexes.
func GitleaksRuleNames() []string {
	var out []string
	for _, r := range gitleaksRules() {
		out = append(out, r.Name)
	}
	return out
}

// gl returns a rule ported from gitleaks (builtin_gitleaks.go).
// group is gitleaks' secretGroup (0: the first non-empty group).
func gl(name, re string, group int, entropy float64, kws ...string) Rule {
	return Rule{Name: name, Regex: re, Keywords: kws, Entropy: entropy, firstGroup: group == 0, secretGroup: group}
}
