// go-busy runs CPU-bound goroutines (which the Go runtime preempts with SIGURG every 10 ms),
// optionally next to goroutines doing open+stat (-openers), and prints the wall time in
// milliseconds. With the default -openers 0 it makes no path syscalls while it spins, so under a
// tracer it measures the SIGURG storm alone.
package main

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"time"
)

var sink uint64

func spin(iterations int) uint64 {
	x := uint64(1)
	for i := 0; i < iterations; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

func main() {
	spinners := flag.Int("spinners", 8, "CPU-bound goroutines")
	work := flag.Int("work", 200000000, "iterations per spinner")
	openers := flag.Int("openers", 0, "goroutines doing open+stat")
	opens := flag.Int("opens", 200, "open+stat per opener")
	path := flag.String("path", "/etc/hostname", "file to open")
	flag.Parse()

	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := 0; i < *spinners; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := spin(*work)
			mu.Lock()
			sink += v
			mu.Unlock()
		}()
	}
	for i := 0; i < *openers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < *opens; j++ {
				f, err := os.Open(*path)
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				f.Close()
				if _, err := os.Stat(*path); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
			}
		}()
	}
	wg.Wait()
	fmt.Printf("%.1f\n", float64(time.Since(start).Microseconds())/1000)
}
