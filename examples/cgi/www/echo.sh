#!/bin/sh
# Echoes the request body back, however large: swift-fpm streams stdin while reading stdout.
printf 'Content-Type: %s\n\n' "${CONTENT_TYPE:-application/octet-stream}"
exec cat
