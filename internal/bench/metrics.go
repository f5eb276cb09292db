package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// asyncFinished reads hearth_async_finished_total of a function from the
// gateway's metrics: all final statuses, and the dead ones.
func asyncFinished(ctx context.Context, client *http.Client, base, function string) (total, dead float64, err error) {
	err = scrapeMetrics(ctx, client, base, nil, "hearth_async_finished_total{", func(line string, v float64) {
		if strings.Contains(line, `function="`+function+`"`) {
			total += v
			if strings.Contains(line, `status="dead"`) {
				dead += v
			}
		}
	})
	return total, dead, err
}

// recordsDropped reads hearth_records_dropped_total from the gateway's
// metrics: sync records the background writer could not keep up with.
// header goes with the request (a key that may read /metrics when the
// gateway has auth on; nil without).
func recordsDropped(ctx context.Context, base string, header http.Header) (dropped float64, err error) {
	err = scrapeMetrics(ctx, http.DefaultClient, base, header, "hearth_records_dropped_total", func(_ string, v float64) { dropped += v })
	return dropped, err
}

// scrapeMetrics calls sample for every sample of the gateway's /metrics
// whose line starts with prefix; header goes with the request.
func scrapeMetrics(ctx context.Context, client *http.Client, base string, header http.Header, prefix string, sample func(line string, v float64)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("metrics: status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return fmt.Errorf("metrics: %q: %w", line, err)
		}
		sample(line, v)
	}
	return sc.Err()
}
