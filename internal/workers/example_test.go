package workers_test

import (
	"fmt"
	"sync"
	"time"

	"github.com/sipstreams/sipstreams/internal/workers"
)

func ExamplePool() {
	p := workers.New(4, time.Second)
	var mu sync.Mutex
	sum := 0
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		p.Go(func() {
			defer wg.Done()
			mu.Lock()
			sum += i
			mu.Unlock()
		})
	}
	wg.Wait()
	p.Close() // the waiting workers end
	fmt.Println(sum)
	// Output: 45
}
