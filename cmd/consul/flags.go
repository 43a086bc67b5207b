package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlagSet returns an empty flag set for the named command. It prints
// nothing by itself: parseFlags reports errors and usage.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args into fs. For -help it prints the usage to
// standard output; for a bad flag it prints the error and the usage to
// standard error. done is true in both cases, and code is the exit code to
// return (0 and 1).
func parseFlags(u *ui, fs *flag.FlagSet, help string, args []string) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(u.out, usage(help, flagDefaults(fs)))
		return 0, true
	default:
		u.error("%v\n", err)
		fmt.Fprint(u.err, usage(help, flagDefaults(fs)))
		return 1, true
	}
}

// flagDefaults is fs's flag list as flag.PrintDefaults writes it.
func flagDefaults(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return b.String()
}

// usage joins a command's help text and its flag list.
func usage(help, flags string) string {
	help = strings.TrimSpace(help) + "\n"
	if flags == "" {
		return help
	}
	return help + "\nOptions:\n\n" + flags
}

// isSet tells whether the flag called name was given on the command line,
// for flags whose zero value is also a meaningful value.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// oneArg returns the single positional argument a command takes, named
// what in its error messages ("FILE"), or reports why there is not one.
func oneArg(u *ui, args []string, what string) (string, bool) {
	switch len(args) {
	case 0:
		u.error("Missing %s argument", what)
		return "", false
	case 1:
		return args[0], true
	default:
		u.error("Too many arguments (expected 1, got %d)", len(args))
		return "", false
	}
}

// noArgs reports positional arguments to a command that takes none.
func noArgs(u *ui, args []string) bool {
	if len(args) > 0 {
		u.error("Too many arguments (expected 0, got %d)", len(args))
		return false
	}
	return true
}
