#!/bin/sh
# Status: and Location: headers: /status.sh?404, /status.sh?redirect
case "$QUERY_STRING" in
    redirect) printf 'Location: /hello.sh?from=redirect\n\n' ;;
    404) printf 'Status: 404 Not Found\nContent-Type: text/plain\n\nnothing here\n' ;;
    *) printf 'Status: 202 Accepted\nContent-Type: text/plain\nX-Example: cgi\n\naccepted\n' ;;
esac
