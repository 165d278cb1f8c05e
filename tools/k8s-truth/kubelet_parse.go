package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
	"k8s.io/kubernetes/pkg/kubelet/kubeletconfig/configfiles"
	utilfs "k8s.io/kubernetes/pkg/util/filesystem"
)

type parseResult struct {
	Args []string `json:"args"`
	// Error is what the kubelet's first parse step returns, "" when it accepts the line.
	Error string `json:"error"`
	// Warnings are the lines pflag writes while parsing: one "Flag --x has been deprecated, ..."
	// each time a deprecated flag is set.
	Warnings []string `json:"warnings"`
	// Set holds each flag the line set, with its value as the flag prints it after parsing.
	Set map[string]string `json:"set"`
}

// printParses reads command lines, one JSON array of strings a line, and parses each with a fresh
// kubelet flag set, as NewKubeletCommand's RunE does before anything else: Parse, then refuse
// non-flag arguments.
func printParses(w io.Writer, r io.Reader) error {
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 1<<20), 1<<24)
	enc := json.NewEncoder(w)
	for scanner.Scan() {
		var args []string
		if err := json.Unmarshal(scanner.Bytes(), &args); err != nil {
			return fmt.Errorf("each input line must be a JSON array of strings: %w", err)
		}
		result, err := parseKubeletArgs(args)
		if err != nil {
			return err
		}
		if err := enc.Encode(result); err != nil {
			return err
		}
	}
	return scanner.Err()
}

func parseKubeletArgs(args []string) (parseResult, error) {
	fs, _, err := kubeletFlagSet()
	if err != nil {
		return parseResult{}, err
	}
	var output bytes.Buffer
	fs.SetOutput(&output)
	result := parseResult{Args: args, Warnings: []string{}, Set: map[string]string{}}
	if err := fs.Parse(args); err != nil {
		result.Error = "failed to parse kubelet flag: " + err.Error()
	} else if rest := fs.Args(); len(rest) > 0 {
		result.Error = fmt.Sprintf("unknown command %+s", rest[0])
	}
	for _, line := range strings.Split(output.String(), "\n") {
		if strings.HasPrefix(line, "Flag ") {
			result.Warnings = append(result.Warnings, line)
		}
	}
	fs.Visit(func(f *pflag.Flag) { result.Set[f.Name] = f.Value.String() })
	return result, nil
}

// printConfigLoad loads a KubeletConfiguration file the way the kubelet's loadConfigFile does
// (configfiles.NewFsLoader with the release's codecs) and prints whether it loaded.
func printConfigLoad(w io.Writer, name string) error {
	result := map[string]any{"path": name, "ok": true, "error": ""}
	if err := loadKubeletConfig(name); err != nil {
		result["ok"], result["error"] = false, err.Error()
	}
	return writeJSON(w, result)
}

func loadKubeletConfig(name string) error {
	path, err := filepath.Abs(name)
	if err != nil {
		return err
	}
	loader, err := configfiles.NewFsLoader(&utilfs.DefaultFs{}, path)
	if err != nil {
		return err
	}
	// Load takes a context from 1.31 on; asserting the method set compiles on every release.
	var method any = loader
	switch l := method.(type) {
	case interface {
		Load(context.Context) (*kubeletconfig.KubeletConfiguration, error)
	}:
		_, err = l.Load(context.Background())
	case interface {
		Load() (*kubeletconfig.KubeletConfiguration, error)
	}:
		_, err = l.Load()
	default:
		err = fmt.Errorf("configfiles.Loader of this release has no known Load method")
	}
	return err
}
