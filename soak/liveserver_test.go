package soak

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// httpPublisher publishes through POST /publish. A refused dial or an
// error status means not stored; a request whose answer was lost (the
// process died mid-request) may or may not have been stored. pad adds that
// many bytes to each payload.
func httpPublisher(addr string, pad int) (PublishFunc, func()) {
	padding := strings.Repeat("x", pad)
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	client := &http.Client{Timeout: 2 * time.Second, Transport: tr}
	publish := func(ctx context.Context, ch string, n int) (bool, error) {
		p := Payload(n)
		if pad > 0 {
			p = append(append(p[:len(p)-1], `,"pad":"`+padding+`"`...), '}')
		}
		body := fmt.Sprintf(`{"channel":%q,"type":"updated","payload":%s}`, ch, p)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/publish", bytes.NewReader([]byte(body)))
		if err != nil {
			return true, err
		}
		resp, err := client.Do(req)
		if err != nil {
			var op *net.OpError
			if errors.As(err, &op) && op.Op == "dial" {
				return true, err
			}
			return false, err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return true, fmt.Errorf("failed to publish: status %d", resp.StatusCode)
		}
		return true, nil
	}
	return publish, tr.CloseIdleConnections
}
