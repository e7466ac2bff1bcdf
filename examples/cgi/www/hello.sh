#!/bin/sh
# A CGI/1.1 script in plain sh: the head, an empty line, then the body.
printf 'Content-Type: text/plain; charset=utf-8\n'
printf '\n'
printf 'Hello from a shell CGI script (pid %s)\n' "$$"
printf 'method=%s query=%s\n' "$REQUEST_METHOD" "$QUERY_STRING"
if [ -n "$CONTENT_LENGTH" ]; then
    printf 'body: '
    head -c "$CONTENT_LENGTH"
    printf '\n'
fi
