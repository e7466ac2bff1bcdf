<?php
// Served by php-cgi running as a swift-fpm `exec` pool worker.
header('Content-Type: text/plain; charset=utf-8');
if ($_SERVER['REQUEST_METHOD'] === 'POST') {
    http_response_code(201);
}
echo "Hello from PHP ", PHP_VERSION, " (pid ", getmypid(), ")\n";
echo "method: ", $_SERVER['REQUEST_METHOD'], "\n";
echo "name: ", htmlspecialchars($_REQUEST['name'] ?? 'world'), "\n";
