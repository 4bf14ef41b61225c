package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// procSample is what the kernel counts for the server process.
type procSample struct {
	cpu    time.Duration // user + system
	syscw  uint64        // write system calls (write, writev, sendto, …)
	rssKiB uint64
}

// clockTick is USER_HZ, 100 on every Linux this runs on.
const clockTick = 100

func sampleProc(pid int) (procSample, error) {
	var s procSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, fmt.Errorf("failed to read the server's stat: %w", err)
	}
	// The command name may hold spaces: fields count from after ')'.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	utime, _ := strconv.ParseUint(f[11], 10, 64)
	stime, _ := strconv.ParseUint(f[12], 10, 64)
	s.cpu = time.Duration(utime+stime) * time.Second / clockTick
	io, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return s, fmt.Errorf("failed to read the server's io: %w", err)
	}
	s.syscw = field(io, "syscw:")
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("failed to read the server's status: %w", err)
	}
	s.rssKiB = field(status, "VmRSS:")
	return s, nil
}

func field(b []byte, key string) uint64 {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key); ok {
			v, _ := strconv.ParseUint(strings.Fields(rest)[0], 10, 64)
			return v
		}
	}
	return 0
}
