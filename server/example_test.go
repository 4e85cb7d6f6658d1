package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"

	"github.com/gpuplan/gpuplan/server"
)

// A server whose Run prints the command line it was given, to show how a
// request becomes CLI arguments.
func ExampleNew() {
	srv, err := server.New(server.Options{
		Run: func(_ context.Context, args []string, stdout, _ io.Writer) int {
			fmt.Fprintf(stdout, "%q\n", strings.Join(args, " "))
			return server.ExitOK
		},
		Commands: []server.Command{{
			Name: "size",
			Args: []server.Arg{{Name: "MODEL", Required: true}},
			Flags: []server.Flag{
				{Name: "context", Type: server.Int, Default: "0"},
				{Name: "kv-dtype", Type: server.String, Default: "auto"},
			},
		}},
	})
	if err != nil {
		panic(err)
	}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/size?model=llama-3.1-8b&kv_dtype=fp8&context=8192", nil))
	fmt.Print(w.Code, " ", w.Body.String())
	// Output: 200 "size --context=8192 --kv-dtype=fp8 llama-3.1-8b"
}
