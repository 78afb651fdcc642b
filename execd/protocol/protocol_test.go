package protocol

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func reader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }

func TestRequestRoundTrip(t *testing.T) {
	many := make([]string, MaxArgs)
	for i := range many {
		many[i] = strings.Repeat("x", MaxArgBytes/MaxArgs) // both limits at once, inclusive
	}
	long := []string{strings.Repeat("y", MaxLine), strings.Repeat("y", MaxLine), strings.Repeat("y", MaxLine), strings.Repeat("y", MaxLine)}
	reqs := []*Request{
		{Args: []string{"/bin/cat"}, Stdin: []byte("hello")},
		{Args: []string{"/bin/echo", "a b", " spaced ", "ERR"}},
		{Args: []string{"prog"}, Stdin: []byte("bin\x00ary\nwith\n\nnewlines\r\n")},
		{Args: many, Stdin: bytes.Repeat([]byte{'z'}, MaxStdin)},
		{Args: long},
	}
	// All requests on one stream, as on one connection.
	var buf bytes.Buffer
	for _, r := range reqs {
		if err := WriteRequest(&buf, r); err != nil {
			t.Fatalf("WriteRequest(%q): %v", r.Args[0], err)
		}
	}
	br := bufio.NewReader(&buf)
	for _, want := range reqs {
		got, err := ReadRequest(br)
		if err != nil {
			t.Fatalf("ReadRequest: %v", err)
		}
		if !reflect.DeepEqual(got.Args, want.Args) || !bytes.Equal(got.Stdin, want.Stdin) {
			t.Errorf("round trip of %q: got args %q stdin %q", want.Args[0], got.Args, got.Stdin)
		}
	}
	if _, err := ReadRequest(br); err != io.EOF {
		t.Errorf("after last request: got %v, want io.EOF", err)
	}
}

func TestRequestWireFormat(t *testing.T) {
	var buf bytes.Buffer
	WriteRequest(&buf, &Request{Args: []string{"/bin/echo", "a b"}, Stdin: []byte("hi")})
	if want := "/bin/echo\na b\n\n2\nhi"; buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

func TestReadRequestMalformed(t *testing.T) {
	tooMany := strings.Repeat("arg\n", MaxArgs+1) + "\n0\n"
	tests := map[string]string{
		"non-numeric count":  "/bin/cat\n\nabc\n",
		"negative count":     "/bin/cat\n\n-1\n",
		"signed count":       "/bin/cat\n\n+1\nx",
		"spaced count":       "/bin/cat\n\n 1\nx",
		"empty count":        "/bin/cat\n\n\n",
		"count over limit":   "/bin/cat\n\n1048577\n",
		"huge count":         "/bin/cat\n\n99999999999999999999999\n",
		"too many args":      tooMany,
		"over-long line":     strings.Repeat("x", MaxLine+1) + "\n\n0\n",
		"over-long count":    "/bin/cat\n\n" + strings.Repeat("0", MaxLine+1) + "\n",
		"args over budget":   strings.Repeat(strings.Repeat("a", MaxLine)+"\n", MaxArgBytes/MaxLine+1) + "\n0\n",
		"no program":         "\n0\n",
		"truncated stdin":    "/bin/cat\n\n5\nhel",
		"truncated count":    "/bin/cat\n\n5",
		"missing count":      "/bin/cat\n\n",
		"truncated args":     "/bin/cat\n",
		"truncated arg line": "/bin/ca",
	}
	for name, in := range tests {
		_, err := ReadRequest(reader(in))
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}

func TestReadRequestEOF(t *testing.T) {
	if _, err := ReadRequest(reader("")); err != io.EOF {
		t.Errorf("empty stream: got %v, want io.EOF", err)
	}
}

func TestWriteRequestRejects(t *testing.T) {
	tests := map[string]*Request{
		"no args":        {},
		"empty arg":      {Args: []string{"/bin/echo", ""}},
		"newline in arg": {Args: []string{"/bin/echo", "a\nb"}},
		"long arg":       {Args: []string{strings.Repeat("x", MaxLine+1)}},
		"too many args":  {Args: make([]string, MaxArgs+1)},
		"args too long":  {Args: []string{strings.Repeat("x", MaxLine), strings.Repeat("x", MaxLine), strings.Repeat("x", MaxLine), strings.Repeat("x", MaxLine), "x"}},
		"stdin too big":  {Args: []string{"/bin/cat"}, Stdin: make([]byte, MaxStdin+1)},
	}
	for name, r := range tests {
		var buf bytes.Buffer
		if err := WriteRequest(&buf, r); !errors.Is(err, ErrMalformed) || buf.Len() != 0 {
			t.Errorf("%s: got %v with %d bytes written, want ErrMalformed and nothing", name, err, buf.Len())
		}
	}
}

func TestReplyRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	WriteReply(&buf, []byte("a b\n"))
	WriteReply(&buf, nil)
	WriteReply(&buf, []byte("ERR not an error\n"))
	WriteError(&buf, "line one\nline two")
	WriteReply(&buf, bytes.Repeat([]byte{1}, MaxStdout))
	WriteError(&buf, strings.Repeat("e", 2*MaxLine))
	if !strings.HasPrefix(buf.String(), "4\na b\n0\n17\nERR not an error\nERR line one line two\n") {
		t.Fatalf("unexpected wire format: %q", buf.String()[:60])
	}

	br := bufio.NewReader(&buf)
	for _, want := range []string{"a b\n", "", "ERR not an error\n"} {
		if got, err := ReadReply(br); err != nil || string(got) != want {
			t.Errorf("got %q, %v; want %q", got, err, want)
		}
	}
	var remote *RemoteError
	if _, err := ReadReply(br); !errors.As(err, &remote) || remote.Msg != "line one line two" {
		t.Errorf("got %v, want RemoteError %q", err, "line one line two")
	}
	if got, err := ReadReply(br); err != nil || len(got) != MaxStdout {
		t.Errorf("max reply: got %d bytes, %v", len(got), err)
	}
	if _, err := ReadReply(br); !errors.As(err, &remote) {
		t.Errorf("long error message must still be one readable line, got %v", err)
	}
}

func TestReadReplyMalformed(t *testing.T) {
	for _, in := range []string{"", "abc\n", "1048577\n", "5\nabc", "-1\n"} {
		if _, err := ReadReply(reader(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: got %v, want ErrMalformed", in, err)
		}
	}
}
