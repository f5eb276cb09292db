package prometheus_test

import (
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v3"

	"github.com/hearthfn/hearth/internal/metricsdoc"
)

const rulesFile = "rules/hearth.rules.yml"

// TestRules parses the alert rules with Prometheus' own rule parser (what
// `promtool check rules` runs: YAML, PromQL, templates of the
// annotations), and checks that every metric they name is registered by a
// role (docs/metrics.md, which TestMetrics keeps equal to what the roles
// register), that each alert the operator needs is there, and that each
// has a summary, a description and a runbook section that exists.
func TestRules(t *testing.T) {
	p := metricsdoc.NewParser()
	groups, errs := rulefmt.ParseFile(rulesFile, false, model.UTF8Validation, p, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, err := range errs {
		t.Error(err)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
	doc, err := metricsdoc.Read("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	anchors := runbookAnchors(t, "../../docs/runbook.md")

	alerts := map[string]bool{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				t.Errorf("group %s: rule %q is not an alert", g.Name, r.Record)
				continue
			}
			alerts[r.Alert] = true
			if err := doc.CheckExpr(p, r.Expr); err != nil {
				t.Errorf("%s: expr %v", r.Alert, err)
			}
			for _, key := range []string{"summary", "description", "runbook"} {
				if strings.TrimSpace(r.Annotations[key]) == "" {
					t.Errorf("%s has no %s annotation", r.Alert, key)
				}
			}
			if r.Labels["severity"] == "" {
				t.Errorf("%s has no severity label", r.Alert)
			}
			file, anchor, _ := strings.Cut(r.Annotations["runbook"], "#")
			if file != "docs/runbook.md" || !anchors[anchor] {
				t.Errorf("%s: runbook %q is not a section of docs/runbook.md", r.Alert, r.Annotations["runbook"])
			}
		}
	}
	// The list: runner down, error ratio, p99 latency, DLQ
	// growth, consumer lag, S3 errors, forecast error.
	for _, want := range []string{"HearthRunnerDown", "HearthHighErrorRatio", "HearthHighLatencyP99", "HearthDLQGrowing",
		"HearthAsyncConsumerLag", "HearthS3Errors", "HearthForecastMisses"} {
		if !alerts[want] {
			t.Errorf("no alert %s", want)
		}
	}
}

// runbookAnchors are the anchors of the page's headings, as GitHub makes
// them: lower case, spaces to dashes, punctuation dropped.
func runbookAnchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	drop := regexp.MustCompile(`[^a-z0-9 _-]`)
	out := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			out[strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(strings.TrimSpace(h)), ""), " ", "-")] = true
		}
	}
	return out
}

// scrapeConfig is what the scrape configurations say that Hearth relies
// on. (Prometheus' config package would link every service discovery's
// client; the YAML is read here for those fields.)
type scrapeConfig struct {
	RuleFiles     []string `yaml:"rule_files"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		MetricsPath   string `yaml:"metrics_path"`
		Authorization *struct {
			Type            string `yaml:"type"`
			Credentials     string `yaml:"credentials"`
			CredentialsFile string `yaml:"credentials_file"`
		} `yaml:"authorization"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
		KubernetesSDConfigs []struct {
			Role string `yaml:"role"`
		} `yaml:"kubernetes_sd_configs"`
		RelabelConfigs []struct {
			SourceLabels []string `yaml:"source_labels"`
			Regex        string   `yaml:"regex"`
			Action       string   `yaml:"action"`
		} `yaml:"relabel_configs"`
	} `yaml:"scrape_configs"`
}

// TestScrapeConfig checks prometheus.yml (static targets) and
// kubernetes.yml (pods found through the Kubernetes API): a job for every
// role, the gateway's with a bearer key from a file (its /metrics needs a
// key bound to *, docs/security.md), and the rule file it loads. On
// Kubernetes each job keeps its role's pods by label and one named
// container port (deploy/kubernetes's tests check those names against
// the manifests).
func TestScrapeConfig(t *testing.T) {
	for _, file := range []string{"prometheus.yml", "kubernetes.yml"} {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var cfg scrapeConfig
			if err := yaml.Unmarshal(data, &cfg); err != nil {
				t.Fatal(err)
			}
			jobs := map[string]int{}
			for i, sc := range cfg.ScrapeConfigs {
				jobs[sc.JobName] = i
				if sc.MetricsPath != "/metrics" {
					t.Errorf("job %s scrapes %q, want /metrics", sc.JobName, sc.MetricsPath)
				}
				switch file {
				case "prometheus.yml":
					if len(sc.StaticConfigs) == 0 || len(sc.StaticConfigs[0].Targets) == 0 {
						t.Errorf("job %s has no targets", sc.JobName)
					}
				case "kubernetes.yml":
					if len(sc.KubernetesSDConfigs) != 1 || sc.KubernetesSDConfigs[0].Role != "pod" {
						t.Errorf("job %s: kubernetes_sd_configs %+v, want one of role pod", sc.JobName, sc.KubernetesSDConfigs)
					}
					keeps := map[string]string{}
					for _, rc := range sc.RelabelConfigs {
						if rc.Action == "keep" && len(rc.SourceLabels) == 1 {
							keeps[rc.SourceLabels[0]] = rc.Regex
						}
					}
					if keeps["__meta_kubernetes_pod_label_app_kubernetes_io_name"] != sc.JobName {
						t.Errorf("job %s keeps pods labelled %q, want its own name", sc.JobName, keeps["__meta_kubernetes_pod_label_app_kubernetes_io_name"])
					}
					if keeps["__meta_kubernetes_pod_container_port_name"] == "" {
						t.Errorf("job %s keeps no named container port: it would scrape every port of the pod", sc.JobName)
					}
				}
			}
			for _, job := range []string{"hearth-gateway", "hearth-runner"} {
				if _, ok := jobs[job]; !ok {
					t.Errorf("no scrape job %s (the rules and the dashboard select on it)", job)
				}
			}
			if i, ok := jobs["hearth-gateway"]; ok {
				a := cfg.ScrapeConfigs[i].Authorization
				if a == nil || a.CredentialsFile == "" || a.Credentials != "" || (a.Type != "" && a.Type != "Bearer") {
					t.Errorf("hearth-gateway: authorization %+v; want a bearer key from credentials_file, never inline", a)
				}
			}
			if len(cfg.RuleFiles) != 1 || cfg.RuleFiles[0] != rulesFile {
				t.Errorf("rule_files %v, want [%s]", cfg.RuleFiles, rulesFile)
			}
		})
	}
}
