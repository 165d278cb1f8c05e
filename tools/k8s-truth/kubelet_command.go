package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"reflect"

	"github.com/spf13/cobra"

	// The blank imports of cmd/kubelet/kubelet.go, so this program registers what the kubelet binary registers.
	// logs/json/register adds the JSON log format, whose options are the --log-json-* flags (see flags.go).
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kubelet/app"
)

// printKubeletHelp writes what `kubelet --help` prints: the help of the command app.NewKubeletCommand builds.
// NewKubeletCommand takes a context from v1.35 on and nothing before, so it is called through reflection.
func printKubeletHelp(w io.Writer) error {
	constructor := reflect.ValueOf(app.NewKubeletCommand)
	args := []reflect.Value{}
	if constructor.Type().NumIn() == 1 {
		args = append(args, reflect.ValueOf(context.Background()))
	}
	cmd, ok := constructor.Call(args)[0].Interface().(*cobra.Command)
	if !ok {
		return fmt.Errorf("NewKubeletCommand returned no *cobra.Command")
	}
	var help bytes.Buffer
	cmd.SetOut(&help)
	if err := cmd.Help(); err != nil {
		return err
	}
	_, err := w.Write(help.Bytes())
	return err
}
