// Command gcs-emulator serves fake-gcs-server's Cloud Storage JSON API (its fakestorage package,
// filesystem backend) on one loopback address, behind a guard.
//
// The guard exists because fake-gcs-server's filesystem backend joins bucket and object names into
// paths unchecked: an object named "../../x", or a bucket named "..", is written outside the storage
// root, and its CORS policy lets any web page the user visits send such requests. fake-gcs-server has
// no flag to turn either off, so this command refuses, before fake-gcs-server sees them:
//   - requests from web pages (an Origin header) and requests whose Host is not a loopback name
//     (DNS rebinding);
//   - bucket names that real Cloud Storage refuses, and object names with a "." or ".." segment,
//     wherever a name can arrive (path, ?name=, the JSON of resumable and multipart uploads);
//   - every route tideline does not use (XML API, batch, signed URLs, _internal reseed/delete).
//
// Usage: gcs-emulator -root DIR [-host 127.0.0.1] [-port 4443] [-bucket NAME]... [-verbose]
// Once it listens it prints "listening on http://HOST:PORT" (with -port 0, the port it was given).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// Cloud Storage's bucket naming rules (names with dots may be longer; tideline's are not).
var bucketNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$`)

const maxMetadataBytes = 1 << 20

type refusal struct {
	status int
	reason string
	msg    string
}

func refuse(status int, reason, format string, args ...any) *refusal {
	return &refusal{status: status, reason: reason, msg: fmt.Sprintf(format, args...)}
}

func checkBucket(name string) *refusal {
	if !bucketNameRe.MatchString(name) || strings.Contains(name, "..") {
		return refuse(http.StatusBadRequest, "invalid", "invalid bucket name %q: 3-63 lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit", excerpt(name))
	}
	return nil
}

func checkObject(name string) *refusal {
	switch {
	case name == "":
		return refuse(http.StatusBadRequest, "required", "an object name is required")
	case len(name) > 1024 || !utf8.ValidString(name):
		return refuse(http.StatusBadRequest, "invalid", "object names are 1-1024 bytes of UTF-8")
	case strings.ContainsAny(name, "\r\n\x00"):
		return refuse(http.StatusBadRequest, "invalid", "object names cannot contain carriage returns, line feeds or NUL")
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "." || seg == ".." {
			return refuse(http.StatusBadRequest, "invalid", "object name %q has a '.' or '..' segment, which the local emulator refuses (it stores objects as files)", excerpt(name))
		}
	}
	return nil
}

func excerpt(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

func loopbackHost(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// unescape decodes one escaped path segment.
func unescape(s string) (string, *refusal) {
	u, err := url.PathUnescape(s)
	if err != nil {
		return "", refuse(http.StatusBadRequest, "invalid", "malformed percent-encoding in the path")
	}
	return u, nil
}

// objectFromTail joins the path segments after /o/ into the object name, whether the client
// escaped the name's slashes (%2F) or not.
func objectFromTail(segments []string) (string, *refusal) {
	parts := make([]string, len(segments))
	for i, s := range segments {
		u, r := unescape(s)
		if r != nil {
			return "", r
		}
		parts[i] = u
	}
	return strings.Join(parts, "/"), nil
}

func oneOf(m string, allowed ...string) bool {
	for _, a := range allowed {
		if m == a {
			return true
		}
	}
	return false
}

var errTooLarge = errors.New("too large")

// peekBody reads up to max bytes of the body and puts them back, so the handler still sees all of it.
func peekBody(r *http.Request, max int64) ([]byte, error) {
	buf, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, err
	}
	r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
	if int64(len(buf)) > max {
		return nil, errTooLarge
	}
	return buf, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

type uploadMeta struct {
	Name   string `json:"name"`
	Bucket string `json:"bucket"`
}

// uploadMetadata reads the object resource of a resumable start (JSON body) or of a multipart
// upload (its first part), leaving the body intact for fake-gcs-server.
func uploadMetadata(r *http.Request) (*uploadMeta, *refusal) {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var meta uploadMeta
	switch {
	case ct == "application/json":
		buf, err := peekBody(r, maxMetadataBytes)
		if err != nil {
			return nil, refuse(http.StatusBadRequest, "invalid", "the upload's JSON metadata is unreadable or larger than 1 MiB")
		}
		if len(bytes.TrimSpace(buf)) == 0 {
			return &meta, nil
		}
		if json.Unmarshal(buf, &meta) != nil {
			return nil, refuse(http.StatusBadRequest, "parseError", "the upload's metadata is not JSON")
		}
	case strings.HasPrefix(ct, "multipart/"):
		var seen bytes.Buffer
		tee := io.TeeReader(io.LimitReader(r.Body, maxMetadataBytes), &seen)
		part, err := multipart.NewReader(tee, params["boundary"]).NextPart()
		var body []byte
		if err == nil {
			body, err = io.ReadAll(part)
		}
		r.Body = readCloser{io.MultiReader(bytes.NewReader(seen.Bytes()), r.Body), r.Body}
		if err != nil || json.Unmarshal(body, &meta) != nil {
			return nil, refuse(http.StatusBadRequest, "invalid", "a multipart upload starts with the object's JSON metadata (at most 1 MiB)")
		}
	}
	return &meta, nil
}

func checkUpload(r *http.Request, bucket string) *refusal {
	q := r.URL.Query()
	if q.Get("X-Goog-Algorithm") != "" {
		return refuse(http.StatusBadRequest, "invalid", "signed URL uploads are not served by the local emulator")
	}
	if q.Has("upload_id") {
		return nil
	}
	if n := q.Get("name"); n != "" {
		if r := checkObject(n); r != nil {
			return r
		}
	}
	meta, bad := uploadMetadata(r)
	if bad != nil {
		return bad
	}
	if meta.Bucket != "" && meta.Bucket != bucket {
		return refuse(http.StatusBadRequest, "invalid", "the metadata names bucket %q, the path %q", excerpt(meta.Bucket), bucket)
	}
	if meta.Name != "" {
		return checkObject(meta.Name)
	}
	if q.Get("name") == "" {
		return refuse(http.StatusBadRequest, "required", "an upload needs an object name (?name= or the metadata's name)")
	}
	return nil
}

// check decides whether fake-gcs-server may see the request.
func check(r *http.Request) *refusal {
	if r.Header.Get("Origin") != "" {
		return refuse(http.StatusForbidden, "forbidden", "requests from web pages (with an Origin header) are refused by the local emulator")
	}
	if !loopbackHost(r.Host) {
		return refuse(http.StatusForbidden, "forbidden", "Host %q is not a loopback address", excerpt(r.Host))
	}
	p := r.URL.EscapedPath()
	m := r.Method
	notServed := refuse(http.StatusNotFound, "notFound", "%s %s is not served by the local emulator", m, excerpt(p))
	switch {
	case p == "/_internal/healthcheck":
		return nil
	case strings.HasPrefix(p, "/upload/resumable/"):
		return nil
	case strings.HasPrefix(p, "/upload/storage/v1/b/"):
		seg := strings.Split(strings.TrimPrefix(p, "/upload/storage/v1/b/"), "/")
		if len(seg) < 2 || seg[1] != "o" || len(seg) > 3 || (len(seg) == 3 && seg[2] != "") {
			return notServed
		}
		bucket, bad := unescape(seg[0])
		if bad != nil {
			return bad
		}
		if bad := checkBucket(bucket); bad != nil {
			return bad
		}
		if m == http.MethodPost {
			return checkUpload(r, bucket)
		}
		if oneOf(m, http.MethodPut, http.MethodDelete) && r.URL.Query().Has("upload_id") {
			return nil
		}
		return notServed
	case strings.HasPrefix(p, "/download/storage/v1/b/"):
		seg := strings.Split(strings.TrimPrefix(p, "/download/storage/v1/b/"), "/")
		if len(seg) < 3 || seg[1] != "o" || !oneOf(m, http.MethodGet, http.MethodHead) {
			return notServed
		}
		return checkBucketAndObject(seg[0], seg[2:])
	case p == "/storage/v1/b" || p == "/storage/v1/b/":
		if m == http.MethodGet {
			return nil
		}
		if m != http.MethodPost {
			return notServed
		}
		buf, err := peekBody(r, maxMetadataBytes)
		var body struct {
			Name string `json:"name"`
		}
		if err != nil || json.Unmarshal(buf, &body) != nil {
			return refuse(http.StatusBadRequest, "parseError", "a bucket is created from a JSON body with its name")
		}
		return checkBucket(body.Name)
	case strings.HasPrefix(p, "/storage/v1/b/"):
		seg := strings.Split(strings.TrimPrefix(p, "/storage/v1/b/"), "/")
		bucket, bad := unescape(seg[0])
		if bad != nil {
			return bad
		}
		if bad := checkBucket(bucket); bad != nil {
			return bad
		}
		switch {
		case len(seg) == 1:
			if oneOf(m, http.MethodGet, http.MethodPatch, http.MethodDelete) {
				return nil
			}
		case seg[1] != "o":
			// acl, notificationConfigs, storageLayout: nothing tideline uses.
		case len(seg) == 2 || (len(seg) == 3 && seg[2] == ""):
			if m == http.MethodGet {
				return nil
			}
		default:
			// Everything after /o/ is checked as one name: a rewrite or compose target inside it
			// ("…/rewriteTo/b/B/o/../../x") carries its own ".." segments and is refused with it.
			if oneOf(m, http.MethodGet, http.MethodHead, http.MethodDelete, http.MethodPatch, http.MethodPut, http.MethodPost) {
				return checkBucketAndObject(seg[0], seg[2:])
			}
		}
		return notServed
	}
	return notServed
}

func checkBucketAndObject(escapedBucket string, escapedObject []string) *refusal {
	bucket, bad := unescape(escapedBucket)
	if bad != nil {
		return bad
	}
	if bad := checkBucket(bucket); bad != nil {
		return bad
	}
	name, bad := objectFromTail(escapedObject)
	if bad != nil {
		return bad
	}
	return checkObject(name)
}

func guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if bad := check(r); bad != nil {
			w.Header().Set("Content-Type", "application/json; charset=UTF-8")
			w.WriteHeader(bad.status)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
				"code": bad.status, "message": bad.msg,
				"errors": []map[string]string{{"domain": "global", "reason": bad.reason, "message": bad.msg}},
			}})
			return
		}
		next.ServeHTTP(w, r)
	})
}

type bucketList []string

func (b *bucketList) String() string     { return strings.Join(*b, ",") }
func (b *bucketList) Set(v string) error { *b = append(*b, v); return nil }

func main() {
	host := flag.String("host", "127.0.0.1", "loopback address to listen on")
	port := flag.Uint("port", 4443, "port (0: any free port, printed once listening)")
	root := flag.String("root", "", "folder that holds the buckets (required)")
	verbose := flag.Bool("verbose", false, "log every request")
	var buckets bucketList
	flag.Var(&buckets, "bucket", "bucket to create at start (repeatable)")
	flag.Parse()
	if *root == "" {
		fmt.Fprintln(os.Stderr, "gcs-emulator: -root is required")
		os.Exit(2)
	}
	if !loopbackHost(*host) {
		fmt.Fprintf(os.Stderr, "gcs-emulator: -host %s is not a loopback address; the emulator has no authentication\n", *host)
		os.Exit(2)
	}
	for _, b := range buckets {
		if bad := checkBucket(b); bad != nil {
			fmt.Fprintln(os.Stderr, "gcs-emulator:", bad.msg)
			os.Exit(2)
		}
	}

	listener, err := net.Listen("tcp", net.JoinHostPort(*host, fmt.Sprint(*port)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "gcs-emulator: cannot listen on %s:%d: %v\n", *host, *port, err)
		os.Exit(1)
	}
	base := "http://" + listener.Addr().String()
	opts := fakestorage.Options{
		StorageRoot: *root,
		Scheme:      "http",
		Host:        *host,
		Port:        uint16(listener.Addr().(*net.TCPAddr).Port),
		NoListener:  true,
		ExternalURL: base,
		PublicHost:  listener.Addr().String(),
	}
	if *verbose {
		opts.Writer = os.Stderr
	}
	server, err := fakestorage.NewServerWithOptions(opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gcs-emulator: cannot open %s: %v\n", *root, err)
		os.Exit(1)
	}
	for _, b := range buckets {
		server.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: b})
	}

	httpServer := &http.Server{Handler: guard(server.HTTPHandler()), ReadHeaderTimeout: 10 * time.Second}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = httpServer.Shutdown(ctx)
	}()
	fmt.Printf("listening on %s (fake-gcs-server, data in %s)\n", base, *root)
	if err := httpServer.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "gcs-emulator:", err)
		os.Exit(1)
	}
}
