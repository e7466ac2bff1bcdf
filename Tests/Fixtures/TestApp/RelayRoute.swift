import FPM
import FPMSystem
import FastCGI
import FastCGIClient

/// `/relay`: hands the request (method, query string, body) to another FastCGI server, the
/// pool's env[TESTAPP_RELAY] (an address: `127.0.0.1:9001`), as a request for the script
/// env[TESTAPP_RELAY_SCRIPT], and answers with its status and body. The multi-host suite's
/// Swift pool records its database writes this way, through the PHP pool of its own host:
/// the test app has no MySQL client, and a write that reaches the shared table only because
/// the Swift worker's request succeeded is what the suite counts.
func relayRoute(_ request: Request, _ response: Response) throws {
    guard let target = ProcessEnvironment.value("TESTAPP_RELAY"), let address = FastCGIAddress(target),
          let script = ProcessEnvironment.value("TESTAPP_RELAY_SCRIPT")
    else {
        response.status = .internalServerError
        try response.write("relay: env[TESTAPP_RELAY] and env[TESTAPP_RELAY_SCRIPT] are not set\n")
        return
    }
    let body = try request.body(limit: 1 << 20)
    let client = try FastCGIClient(connectingTo: address, timeout: 10)
    defer { client.close() }
    let answer = try client.request(params: [
        ("GATEWAY_INTERFACE", "CGI/1.1"), ("REQUEST_METHOD", request.method.rawValue),
        ("QUERY_STRING", request.queryString), ("SCRIPT_FILENAME", script), ("SCRIPT_NAME", "/relay"),
        ("REQUEST_URI", request.uri), ("REDIRECT_STATUS", "200"), ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("CONTENT_TYPE", request.contentType ?? ""), ("CONTENT_LENGTH", String(body.count)),
        ("REMOTE_ADDR", request.remoteAddress ?? ""), ("SERVER_NAME", request.serverName ?? ""),
    ], body: body)
    response.status = HTTPResponse.Status(code: answer.status)
    try response.write(answer.body)
}
