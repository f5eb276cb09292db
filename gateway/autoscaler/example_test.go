package autoscaler_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/hearthfn/hearth/gateway/autoscaler"
)

// A day of one function called every 7 minutes, replayed under the
// baselines and the predictive policy.
func Example() {
	var inv strings.Builder
	inv.WriteString("HashOwner,HashApp,HashFunction,Trigger")
	for m := 1; m <= autoscaler.Minutes; m++ {
		fmt.Fprintf(&inv, ",%d", m)
	}
	inv.WriteString("\nowner,app,tick,timer")
	for m := 1; m <= autoscaler.Minutes; m++ {
		if m%7 == 1 {
			inv.WriteString(",1")
		} else {
			inv.WriteString(",0")
		}
	}
	mem := "HashOwner,HashApp,AverageAllocatedMb\nowner,app,100\n"

	trace, err := autoscaler.ReadTrace(strings.NewReader(inv.String()), strings.NewReader(mem))
	if err != nil {
		fmt.Println(err)
		return
	}
	policies, err := autoscaler.ParsePolicies("fixed-10,hybrid,predictive")
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := autoscaler.WriteTable(os.Stdout, autoscaler.Replay(trace, policies)); err != nil {
		fmt.Println(err)
	}
	// Output:
	// | policy | functions | cold_p50 | cold_p75 | cold_p90 | cold_total | invocations_total | wasted_mb_min | wasted_rel |
	// | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
	// | fixed-10 | 1 | 0.00 | 0.00 | 0.00 | 0 | 103 | 61700 | 1.000 |
	// | hybrid | 1 | 0.00 | 0.00 | 0.00 | 0 | 103 | 10300 | 0.167 |
	// | predictive | 1 | 0.00 | 0.00 | 0.00 | 0 | 103 | 0 | 0.000 |
}

// A live autoscaler keeps one FunctionPolicy per function, asks it before
// each minute whether an instance should be warm, and tells it the
// minute's invocations afterwards.
func ExampleFunctionPolicy() {
	fp := autoscaler.Predictive().New(autoscaler.FunctionInfo{MemoryMB: 128})
	calls := map[int]int{10: 3, 11: 1, 40: 1}
	for t := 1; t <= 45; t++ {
		if fp.Warm(t) {
			fmt.Print("w")
		} else {
			fmt.Print(".")
		}
		fp.Observe(t, calls[t])
	}
	fmt.Println()
	// Output:
	// ..........wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww
}
