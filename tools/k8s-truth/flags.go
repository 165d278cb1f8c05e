package main

import (
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	cliflag "k8s.io/component-base/cli/flag"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	"k8s.io/kubernetes/cmd/kubelet/app/options"
	kubeletconfig "k8s.io/kubernetes/pkg/kubelet/apis/config"
)

type flagInfo struct {
	Name       string `json:"name"`
	Shorthand  string `json:"shorthand"`
	Deprecated string `json:"deprecated"`
	Hidden     bool   `json:"hidden"`
	Default    string `json:"default"`
	NoOptDef   string `json:"no_opt_default"`
	Type       string `json:"type"`
	GoType     string `json:"go_type"`
	// Field is the kubelet.config.k8s.io/v1beta1 KubeletConfiguration field (a dotted JSON path) that the
	// flag writes, found by the address the flag's value points at; "" for flags outside the configuration.
	Field string `json:"field"`
}

// kubeletFlagSet registers the flags the way cmd/kubelet/app.NewKubeletCommand does, with what the kubelet's
// packages register at start-up (kubelet_inits.go), without the rest of the kubelet. The --log-json-* flags exist
// only because of the blank import of k8s.io/component-base/logs/json/register there: logsapi registers a format's
// options only once the format is. It also returns the configuration the config-backed flags write into.
// Each call gives a fresh flag set.
func kubeletFlagSet() (*pflag.FlagSet, *kubeletconfig.KubeletConfiguration, error) {
	fs := pflag.NewFlagSet("kubelet", pflag.ContinueOnError)
	fs.SetNormalizeFunc(cliflag.WordSepNormalizeFunc)
	kubeletConfig, err := options.NewKubeletConfiguration()
	if err != nil {
		return nil, nil, err
	}
	options.NewKubeletFlags().AddFlags(fs)
	options.AddKubeletConfigFlags(fs, kubeletConfig)
	options.AddGlobalFlags(fs)
	fs.BoolP("help", "h", false, "help for kubelet")
	return fs, kubeletConfig, nil
}

func printKubeletFlags(w io.Writer) error {
	fs, kubeletConfig, err := kubeletFlagSet()
	if err != nil {
		return err
	}
	fields := configFields(kubeletConfig)
	flags := []flagInfo{}
	fs.VisitAll(func(f *pflag.Flag) {
		goType := fmt.Sprintf("%T", f.Value)
		if m, ok := f.Value.(*cliflag.MapStringString); ok && m.NoSplit {
			goType += ",nosplit" // one key=value a use, commas included in the value
		}
		flags = append(flags, flagInfo{
			Name:       f.Name,
			Shorthand:  f.Shorthand,
			Deprecated: f.Deprecated,
			Hidden:     f.Hidden,
			Default:    f.DefValue,
			NoOptDef:   f.NoOptDefVal,
			Type:       f.Value.Type(),
			GoType:     goType,
			Field:      fields.of(f.Value),
		})
	})
	sort.Slice(flags, func(i, j int) bool { return flags[i].Name < flags[j].Name })
	return writeJSON(w, map[string]any{"kubernetes_version": kubernetesVersion(), "flags": flags})
}

// fieldIndex finds the KubeletConfiguration field a flag value writes into.
type fieldIndex struct {
	// byAddress holds the Go field paths (SyncFrequency, Authentication.Anonymous.Enabled) of the
	// internal configuration at each address; a struct and its first field share one.
	byAddress map[uintptr][]string
	// jsonPath maps a Go field path to its JSON path in the v1beta1 type, the one a config file uses.
	jsonPath map[string]string
}

func configFields(c *kubeletconfig.KubeletConfiguration) fieldIndex {
	index := fieldIndex{byAddress: map[uintptr][]string{}, jsonPath: map[string]string{}}
	index.addresses(reflect.ValueOf(c).Elem(), "")
	index.jsonPaths(reflect.TypeOf(kubeletconfigv1beta1.KubeletConfiguration{}), "", "")
	return index
}

func (index fieldIndex) addresses(v reflect.Value, path string) {
	for i := 0; i < v.NumField(); i++ {
		field := v.Field(i)
		name := join(path, v.Type().Field(i).Name, ".")
		index.byAddress[field.UnsafeAddr()] = append(index.byAddress[field.UnsafeAddr()], name)
		if field.Kind() == reflect.Struct {
			index.addresses(field, name)
		}
	}
}

func (index fieldIndex) jsonPaths(t reflect.Type, goPath, jsonPath string) {
	for i := 0; i < t.NumField(); i++ {
		field := t.Field(i)
		tag := strings.Split(field.Tag.Get("json"), ",")[0]
		if tag == "-" || !field.IsExported() {
			continue
		}
		goName := join(goPath, field.Name, ".")
		jsonName := jsonPath
		if !field.Anonymous || tag != "" {
			jsonName = join(jsonPath, tag, ".")
		}
		index.jsonPath[goName] = jsonName
		inner := field.Type
		if inner.Kind() == reflect.Pointer {
			inner = inner.Elem()
		}
		if inner.Kind() == reflect.Struct && !reflect.PointerTo(inner).Implements(jsonMarshaler) {
			index.jsonPaths(inner, goName, jsonName)
		}
	}
}

// of returns the JSON path of the field value points at: the value itself when it is a pointer
// (pflag's own types), or a pointer it holds (cliflag.MapStringString{Map}, utilflag.IPVar{Val}).
func (index fieldIndex) of(value pflag.Value) string {
	v := reflect.ValueOf(value)
	candidates := []uintptr{}
	if v.Kind() == reflect.Pointer {
		candidates = append(candidates, v.Pointer())
		v = v.Elem()
	}
	if v.Kind() == reflect.Struct {
		for i := 0; i < v.NumField(); i++ {
			if v.Field(i).Kind() == reflect.Pointer {
				candidates = append(candidates, v.Field(i).Pointer())
			}
		}
	}
	for _, address := range candidates {
		best := ""
		for _, goPath := range index.byAddress[address] {
			if _, ok := index.jsonPath[goPath]; ok && len(goPath) > len(best) {
				best = goPath
			}
		}
		if best != "" {
			return index.jsonPath[best]
		}
	}
	return ""
}

func join(prefix, name, sep string) string {
	if prefix == "" {
		return name
	}
	if name == "" {
		return prefix
	}
	return prefix + sep + name
}
