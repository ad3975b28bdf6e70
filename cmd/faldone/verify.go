package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/archive/verify"
	"github.com/bassareggiana/faldone/gateway"
	"github.com/bassareggiana/faldone/gateway/config"
)

const verifyUsage = `Usage: faldone verify [--comune ID] [--path /…] [--fill] [--rate MB/s] [--config FILE] [--data DIR]

Read the files of the archive again (of one Comune, or below a path) and compare each with the
SHA-256 recorded when it was written. Each problem is a line on standard output: the path, what
is wrong (changed, missing, unknown, unreadable) and why; a summary ends the run. The exit status
is 0 only when every file was proved intact; --fill records the SHA-256 of files that have none
(stored before digests were kept, or by another tool) instead of reporting them.`

// errProblems is the exit of a verification that found problems: they are
// on standard output already.
var errProblems = errors.New("verification found problems")

func verifyCmd(args []string, stdout, stderr io.Writer) error {
	var (
		comune, under string
		fill          bool
		rate          float64
	)
	st, cfg, _, err := storeCommand("verify", verifyUsage, args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&comune, "comune", "", "only the Comune with this id")
		fs.StringVar(&under, "path", "", "only the files at this namespace path and below it")
		fs.BoolVar(&fill, "fill", false, "record the SHA-256 of files that have none")
		fs.Float64Var(&rate, "rate", 0, "read at most this many MB per second (0: no bound)")
	})
	if err != nil {
		return err
	}
	defer st.Close()
	root := "/"
	switch {
	case comune != "" && under != "":
		return &usageError{usage: verifyUsage, msg: "verify: --comune and --path exclude each other"}
	case comune != "":
		if !slices.ContainsFunc(cfg.Comuni, func(c config.Comune) bool { return c.ID == comune }) {
			return fmt.Errorf("verify: no Comune %q in the configuration", comune)
		}
		root = "/" + comune
	case under != "":
		if root, err = archive.Path(under); err != nil {
			return fmt.Errorf("verify: --path %q: not a path", under)
		}
	}
	if rate < 0 {
		return &usageError{usage: verifyUsage, msg: "verify: --rate must not be negative"}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs, err := gateway.OpenArchive(ctx, cfg)
	if err != nil {
		return err
	}
	began := time.Now()
	sum, err := verify.Run(ctx, fs, st, root, verify.Options{
		Fill: fill,
		Rate: int64(rate * 1e6),
		Problem: func(p verify.Problem) {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", p.Kind, p.Path, p.Detail)
		},
	})
	fmt.Fprintf(stdout, "verified %d files, %s, in %v: %d intact, %d filled, %d rebound; problems: %d changed, %d missing, %d unknown, %d unreadable\n",
		sum.Files, bytesText(sum.Bytes), time.Since(began).Round(time.Second), sum.Intact, sum.Filled, sum.Rebound,
		sum.Problems[verify.Changed], sum.Problems[verify.Missing], sum.Problems[verify.Unknown], sum.Problems[verify.Unreadable])
	if err != nil {
		return err
	}
	if !sum.OK() {
		return errProblems
	}
	return nil
}

// bytesText writes n in the largest binary unit that keeps it above one.
func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
