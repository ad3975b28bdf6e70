package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestMail(t *testing.T) {
	const base = "mail:\n  smtp_host: smtp.example.it\n  from: \"Archivio pratiche <archivio@example.it>\"\n  public_url: https://archivio.example.it/\n"
	runLoadCases(t, []loadCase{
		{name: "off by default", check: func(c Config) bool {
			m := c.Mail
			return !m.Enabled() && m.ExpiryWarningDays == 3 && m.SummaryHour == 7 && m.TLS == "starttls" && m.FromAddress == nil
		}},
		{name: "on, with the defaults", yaml: base, check: func(c Config) bool {
			m := c.Mail
			return m.Enabled() && m.SMTPPort == 587 && m.TLS == "starttls" && m.ExpiryWarningDays == 3 && m.SummaryHour == 7 &&
				m.SummaryInterval == 0 && m.CheckInterval == 10*time.Minute && m.Timeout == 30*time.Second &&
				m.FromAddress.Address == "archivio@example.it" && m.FromAddress.Name == "Archivio pratiche"
		}},
		{name: "implicit TLS on its port", yaml: base + "  tls: tls\n", check: func(c Config) bool { return c.Mail.SMTPPort == 465 }},
		{name: "in clear on its port", yaml: base + "  tls: none\n", check: func(c Config) bool { return c.Mail.SMTPPort == 25 }},
		{name: "a port of its own", yaml: base + "  smtp_port: 2525\n", check: func(c Config) bool { return c.Mail.SMTPPort == 2525 }},
		{name: "every key", yaml: base + "  smtp_port: 587\n  username: faldone\n  password_file: /run/secrets/smtp\n  ca_file: /etc/faldone/ca.pem\n" +
			"  expiry_warning_days: 0\n  summary_hour: 0\n  summary_interval: 30s\n  check_interval: 5s\n  timeout: 10s\n  summary_disabled: true\n",
			check: func(c Config) bool {
				m := c.Mail
				return m.Username == "faldone" && m.PasswordFile == "/run/secrets/smtp" && m.ExpiryWarningDays == 0 && m.SummaryHour == 0 &&
					m.SummaryInterval == 30*time.Second && m.CheckInterval == 5*time.Second && m.Timeout == 10*time.Second && m.SummaryDisabled
			}},
		{name: "a password in the configuration", yaml: base + "  username: faldone\n  password: segreto\n", wantErr: "mail.password: a password does not belong"},
		{name: "keys without a host", yaml: "mail:\n  from: archivio@example.it\n", wantErr: "mail: smtp_host is empty"},
		{name: "a host with a port", yaml: "mail:\n  smtp_host: smtp.example.it:587\n  from: a@example.it\n  public_url: https://x.example.it/\n", wantErr: "mail.smtp_host"},
		{name: "an unknown TLS", yaml: base + "  tls: ssl\n", wantErr: "mail.tls \"ssl\": want starttls, tls or none"},
		{name: "a port out of range", yaml: base + "  smtp_port: 70000\n", wantErr: "mail.smtp_port 70000"},
		{name: "a user without a password file", yaml: base + "  username: faldone\n", wantErr: "username and password_file go together"},
		{name: "a password file without a user", yaml: base + "  password_file: /run/secrets/smtp\n", wantErr: "username and password_file go together"},
		{name: "a password in clear over the network", yaml: base + "  tls: none\n  username: faldone\n  password_file: /p\n", wantErr: "in clear"},
		{name: "a password in clear to this host", yaml: "mail:\n  smtp_host: 127.0.0.1\n  tls: none\n  username: u\n  password_file: /p\n  from: a@example.it\n  public_url: http://127.0.0.1:8080/\n",
			check: func(c Config) bool { return c.Mail.SMTPPort == 25 }},
		{name: "no sender", yaml: "mail:\n  smtp_host: smtp.example.it\n  public_url: https://x.example.it/\n", wantErr: "mail.from"},
		{name: "a sender that is no address", yaml: "mail:\n  smtp_host: smtp.example.it\n  from: archivio\n  public_url: https://x.example.it/\n", wantErr: "mail.from \"archivio\""},
		{name: "no public URL", yaml: "mail:\n  smtp_host: smtp.example.it\n  from: a@example.it\n", wantErr: "mail.public_url"},
		{name: "a public URL without a scheme", yaml: "mail:\n  smtp_host: smtp.example.it\n  from: a@example.it\n  public_url: archivio.example.it\n", wantErr: "mail.public_url"},
		{name: "a public URL with a query", yaml: "mail:\n  smtp_host: smtp.example.it\n  from: a@example.it\n  public_url: https://a.example.it/?x=1\n", wantErr: "mail.public_url"},
		{name: "warning days negative", yaml: base + "  expiry_warning_days: -1\n", wantErr: "mail.expiry_warning_days"},
		{name: "warning days too many", yaml: base + "  expiry_warning_days: 61\n", wantErr: "mail.expiry_warning_days"},
		{name: "an hour past the day", yaml: base + "  summary_hour: 24\n", wantErr: "mail.summary_hour"},
		{name: "a summary interval under a second", yaml: base + "  summary_interval: 10ms\n", wantErr: "mail.summary_interval"},
		{name: "a check interval under a second", yaml: base + "  check_interval: 0s\n", wantErr: "mail.check_interval"},
		{name: "no timeout", yaml: base + "  timeout: 0s\n", wantErr: "mail.timeout"},
		{name: "an unknown key", yaml: base + "  smtp_user: x\n", wantErr: "smtp_user"},
	})
}

func TestMailReadPassword(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tt := range []struct {
		name, file, want string
		wantErr          bool
	}{
		{"none", "", "", false},
		{"one line", write("a", "segreto con spazi \n"), "segreto con spazi ", false},
		{"CRLF", write("b", "segreto\r\n"), "segreto", false},
		{"no newline", write("c", "segreto"), "segreto", false},
		{"the first line only", write("d", "segreto\naltro\n"), "segreto", false},
		{"empty", write("e", "\n"), "", true},
		{"missing", filepath.Join(dir, "missing"), "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Mail{PasswordFile: tt.file}.ReadPassword()
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ReadPassword() = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
