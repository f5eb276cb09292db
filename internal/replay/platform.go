package replay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// The series a replay reads back from the platform.
const (
	idleSecondsMetric   = "hearth_runner_idle_instance_seconds_total"
	minuteMetric        = "hearth_autoscaler_minute"
	minuteSecondsMetric = "hearth_autoscaler_minute_seconds"
	leaderMetric        = "hearth_autoscaler_leader"
	wantedMetric        = "hearth_autoscaler_runners_wanted"
	runnersMetric       = "hearth_scheduler_runners"
)

// scraper reads /metrics of the gateway and of any runner that serves its
// own.
type scraper struct {
	urls   []string
	apiKey string
	http   *http.Client
}

// scrape reads the named series from every URL, in order.
func (s *scraper) scrape(ctx context.Context, names ...string) ([]sample, error) {
	var all []sample
	for _, u := range s.urls {
		got, err := s.scrapeOne(ctx, u, names)
		if err != nil {
			return nil, err
		}
		all = append(all, got...)
	}
	return all, nil
}

func (s *scraper) scrapeOne(ctx context.Context, url string, names []string) ([]sample, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("metrics URL %q: %w", url, err)
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	if s.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+s.apiKey)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reading %s: HTTP %d", url, resp.StatusCode)
	}
	got, err := parseSamples(resp.Body, names...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return got, nil
}

// autoscalerState is what a gateway's /metrics says of its autoscaler.
type autoscalerState struct {
	policy  string        // "" when the gateway does not take part
	minute  time.Duration // the policy's minute
	leading bool          // it holds the lease (runs the controller)
	current int           // the controller's minute in progress, on the leader
}

// errNoAutoscaler is a gateway without --autoscale.
var errNoAutoscaler = errors.New("the gateway does not run the autoscaler")

// autoscaler reads the autoscaler's state from the first URL (the
// gateway's /metrics).
func (s *scraper) autoscaler(ctx context.Context) (autoscalerState, error) {
	got, err := s.scrapeOne(ctx, s.urls[0], []string{minuteMetric, minuteSecondsMetric, leaderMetric})
	if err != nil {
		return autoscalerState{}, err
	}
	var st autoscalerState
	for _, x := range got {
		switch x.name {
		case minuteSecondsMetric:
			st.policy = x.labels["policy"]
			st.minute = time.Duration(x.value * float64(time.Second)).Round(time.Microsecond)
		case leaderMetric:
			st.leading = x.value == 1
		case minuteMetric:
			st.current = int(x.value)
		}
	}
	if st.policy == "" {
		return st, errNoAutoscaler
	}
	return st, nil
}

// idleSeconds sums the runners' idle instance-seconds per function of ns
// among names.
func idleSeconds(samples []sample, ns string, names map[string]int) map[int]float64 {
	out := map[int]float64{}
	for _, x := range samples {
		if x.name != idleSecondsMetric || x.labels["namespace"] != ns {
			continue
		}
		if i, ok := names[x.labels["function"]]; ok {
			out[i] += x.value
		}
	}
	return out
}

// runners reads, from the first URL (the gateway's /metrics), the runners
// the autoscaler last asked its scaler for and the ready runners in the
// gateway's table.
func (s *scraper) runners(ctx context.Context) (wanted, ready int, err error) {
	got, err := s.scrapeOne(ctx, s.urls[0], []string{wantedMetric, runnersMetric})
	if err != nil {
		return 0, 0, err
	}
	for _, x := range got {
		switch {
		case x.name == wantedMetric:
			wanted = int(x.value)
		case x.name == runnersMetric && x.labels["state"] == "ready":
			ready = int(x.value)
		}
	}
	return wanted, ready, nil
}
