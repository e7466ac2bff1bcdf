// Times the FastCGI codec on the worker's hot path: parse one typical nginx request (25
// params as nginx's fastcgi_params sends them, no body) and frame a 1 KiB response, N times
// with one reused parser and writer. Prints ns/request and heap allocations/request (the
// latter when run under bench/codec/malloc-counter.so, as `make bench-codec` does).

import FastCGI
#if canImport(Glibc)
import Glibc
#endif

let nginxParams: [(String, String)] = [
    ("SCRIPT_FILENAME", "/var/www/html/index.php"), ("QUERY_STRING", "page=2&sort=desc"),
    ("REQUEST_METHOD", "GET"), ("CONTENT_TYPE", ""), ("CONTENT_LENGTH", ""),
    ("SCRIPT_NAME", "/index.php"), ("REQUEST_URI", "/index.php?page=2&sort=desc"),
    ("DOCUMENT_URI", "/index.php"), ("DOCUMENT_ROOT", "/var/www/html"), ("SERVER_PROTOCOL", "HTTP/1.1"),
    ("REQUEST_SCHEME", "http"), ("GATEWAY_INTERFACE", "CGI/1.1"), ("SERVER_SOFTWARE", "nginx/1.22.1"),
    ("REMOTE_ADDR", "127.0.0.1"), ("REMOTE_PORT", "52344"), ("REMOTE_USER", ""),
    ("SERVER_ADDR", "127.0.0.1"), ("SERVER_PORT", "80"), ("SERVER_NAME", "localhost"),
    ("REDIRECT_STATUS", "200"), ("HTTP_HOST", "localhost"),
    ("HTTP_USER_AGENT", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
    ("HTTP_ACCEPT", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ("HTTP_ACCEPT_ENCODING", "gzip, deflate, br"), ("HTTP_CONNECTION", "keep-alive"),
]

// The request as nginx frames it: BEGIN_REQUEST (keep-conn), one PARAMS record, the empty
// PARAMS record, the empty STDIN record.
var request = Records.beginRequest(requestID: 1, keepConnection: true)
Records.appendStream(type: .params, requestID: 1, content: NameValuePairs.encode(nginxParams), to: &request)
Records.appendStream(type: .stdin, requestID: 1, content: [], to: &request)

let head = "Status: 200 OK\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n"
let body = [UInt8](repeating: UInt8(ascii: "x"), count: 1024 - head.utf8.count)

typealias CountFunction = @convention(c) () -> UInt
let countAllocations: CountFunction? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_counter_count")
    .map { unsafeBitCast($0, to: CountFunction.self) }

func now() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

var parser = RequestParser(management: ManagementValues(maxConns: 16, maxReqs: 16))
var writer = ResponseWriter(requestID: 1)
var checksum = 0

@MainActor @inline(never)
func parseOne() {
    request.withUnsafeBytes { parser.append($0) }
    while let event = try! parser.nextEvent() {
        switch event {
        case .params(let p):
            // What a worker looks at for every request, without Strings.
            checksum &+= p.withValue("REQUEST_METHOD" as StaticString) { $0?.count ?? 0 }
            checksum &+= p.withValue("SCRIPT_FILENAME" as StaticString) { $0?.count ?? 0 }
            checksum &+= p.withValue("REQUEST_URI" as StaticString) { $0?.count ?? 0 }
            checksum &+= p.count
        case .stdinEnd:
            break
        default:
            continue
        }
    }
}

@MainActor @inline(never)
func frameOne() {
    writer.reset(requestID: 1)
    writer.stdout(head)
    writer.stdout(body)
    writer.end()
    checksum &+= writer.count
    parser.requestFinished()
}

let iterations = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 200_000 : 200_000

// Warm-up: buffers reach their steady capacity.
for _ in 0..<1000 {
    parseOne()
    frameOne()
}

var parseNanos: UInt64 = 0
var frameNanos: UInt64 = 0
var parseAllocations: UInt = 0
var frameAllocations: UInt = 0
let wallStart = now()
for _ in 0..<iterations {
    let a0 = countAllocations?() ?? 0
    let t0 = now()
    parseOne()
    let t1 = now()
    let a1 = countAllocations?() ?? 0
    frameOne()
    let t2 = now()
    let a2 = countAllocations?() ?? 0
    parseNanos += t1 - t0
    frameNanos += t2 - t1
    parseAllocations += a1 - a0
    frameAllocations += a2 - a1
}
let wall = now() - wallStart

func perRequest(_ total: UInt64) -> String {
    let v = Double(total) / Double(iterations)
    return String(Int(v.rounded()))
}
func allocs(_ total: UInt) -> String {
    countAllocations == nil ? "n/a (run via make bench-codec)" : String(Double(total) / Double(iterations))
}

print("codec-bench: \(iterations) requests, \(nginxParams.count) params (\(request.count) bytes in), 1 KiB response (\(writer.count) bytes out)")
print("  parse  \(perRequest(parseNanos)) ns/request   allocations/request: \(allocs(parseAllocations))")
print("  frame  \(perRequest(frameNanos)) ns/request   allocations/request: \(allocs(frameAllocations))")
print("  total  \(perRequest(parseNanos + frameNanos)) ns/request (wall incl. clock reads: \(perRequest(wall)) ns)")
print("  checksum \(checksum)")
