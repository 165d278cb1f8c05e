package main

import (
	"bufio"
	"encoding/json"
	"io"
	"time"
)

type durationResult struct {
	Input       string `json:"input"`
	OK          bool   `json:"ok"`
	Nanoseconds *int64 `json:"nanoseconds"`
}

// printDurations writes one JSON line per input; "-" stands for every line of stdin.
func printDurations(w io.Writer, stdin io.Reader, args []string) error {
	out := bufio.NewWriter(w)
	enc := json.NewEncoder(out)
	emit := func(s string) error {
		result := durationResult{Input: s}
		if d, err := time.ParseDuration(s); err == nil {
			ns := int64(d)
			result.OK, result.Nanoseconds = true, &ns
		}
		return enc.Encode(result)
	}
	for _, arg := range args {
		if arg != "-" {
			if err := emit(arg); err != nil {
				return err
			}
			continue
		}
		lines := bufio.NewScanner(stdin)
		lines.Buffer(make([]byte, 64*1024), 1024*1024)
		for lines.Scan() {
			if err := emit(lines.Text()); err != nil {
				return err
			}
		}
		if err := lines.Err(); err != nil {
			return err
		}
	}
	return out.Flush()
}
