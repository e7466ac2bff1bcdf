import FPMSystem
import FPMConfiguration
import FastCGI
import Glibc

/// `handler = cgi`: runs the file named by SCRIPT_FILENAME as an RFC 3875 CGI/1.1 program — an
/// fcgiwrap replacement.
///
/// - **Which files.** See `CGIScriptPolicy`: an absolute path without `..`, an allowed
///   extension, an existing (404 otherwise) regular executable file (403 otherwise) inside
///   DOCUMENT_ROOT when the web server sends one and inside the pool's `chroot` when set.
///   `security.limit_extensions` applies; **when it is not set, the cgi default is
///   `.cgi .sh .py .pl`** (php-fpm's `.php .phar` means nothing here, and "any executable" would
///   turn every stray executable under the document root into an endpoint). Setting it to an
///   empty value allows any executable file. A refusal is answered at once with its status and
///   a one-line reason (also sent to FCGI_STDERR and the pool's log); nothing is started.
/// - **Environment.** The worker's environment (the pool's `env[…]`), then every param, then
///   the RFC's required meta-variables the web server did not send (see `CGIEnvironment`). The
///   script runs in its own directory with argv = [its path].
/// - **I/O.** The request body streams to the script's stdin while its stdout and stderr are
///   read (one poll loop watching whichever side the body waits for, the script's stdin or the
///   client's socket, so it moves as fast as both go; neither a large body nor a large output
///   can deadlock). The script gets exactly CONTENT_LENGTH bytes, then EOF. A body that turns
///   out short or aborted kills the script's group before it can see EOF and act on a partial
///   body; the error goes to the worker (400, or no answer after an abort). The output's
///   head is parsed: `Status:` sets the status, `Location:` without a Status is a 302 (a local
///   redirect, a path, is answered the same way: behind a web server a gateway cannot re-run
///   the request internally), other fields pass through. stderr goes to FCGI_STDERR and, line
///   by line, to the pool's log. A script that fails before its head (exit code ≠ 0, a signal)
///   is a 500; one that ends cleanly without a complete head, or a malformed one, a 502.
/// - **Processes.** The script leads its own process group, starts with default signal
///   dispositions, an empty signal mask and only descriptors 0–2. When it outlives
///   `request_terminate_timeout` (measured from the start of the request) the whole group is
///   killed and the request answered 504 (if nothing was sent yet). Once the script has exited
///   or closed its output, what it left running gets `lingerSeconds` to finish, then the group
///   is killed: no process of a request survives it. If the worker is terminated meanwhile
///   (SIGTERM/SIGINT) the group is killed first; if the worker dies any other way the kernel
///   kills the script (PR_SET_PDEATHSIG). `cgi.rlimit_as` / `cgi.rlimit_cpu` are set in the
///   script's process before exec: past the first, allocations fail (answered 500); past the
///   second, SIGXCPU (answered 504).
package final class CGIHandler: RequestHandler {
    package var policy: CGIScriptPolicy
    /// request_terminate_timeout in seconds (0: none).
    package var terminateTimeout: Int
    /// `cgi.rlimit_as` / `cgi.rlimit_cpu`: set in each script's process before exec.
    package var limits = ResourceLimits()
    /// How long a script's leftovers may run after it exited or closed its output.
    package var lingerSeconds: Double = 1
    var poolName = "cgi"
    /// The pool's error log, from `setUp` (stderr before it).
    var errorLog: ErrorLog?

    package init(policy: CGIScriptPolicy = CGIScriptPolicy(), terminateTimeout: Int = 0) {
        self.policy = policy
        self.terminateTimeout = terminateTimeout
    }

    package func setUp(_ worker: WorkerContext) throws {
        poolName = worker.pool
        errorLog = worker.log
        guard let config = worker.configuration else { return }
        policy.allowedExtensions = config.securityLimitExtensions ?? CGIScriptPolicy.defaultExtensions
        if let root = config.chroot, !CGIScriptPolicy.isChrooted() { policy.confinedTo = root }
        terminateTimeout = config.requestTerminateTimeout
        limits = ResourceLimits(addressSpace: config.cgiRlimitAS > 0 ? config.cgiRlimitAS : nil,
                                cpuSeconds: config.cgiRlimitCPU > 0 ? config.cgiRlimitCPU : nil)
    }

    package func handle(_ request: ServerRequest, _ response: ServerResponse) throws {
        let started = SystemClock.monotonicNanos()
        let script: String
        switch policy.resolve(scriptFilename: request.scriptFilename, documentRoot: request.documentRoot) {
        case .failure(let refusal):
            log("\(refusal.message)")
            try? response.log(refusal.message)
            response.status = refusal.status
            try response.setHeader("Content-Type", "text/plain; charset=utf-8")
            try response.write("\(refusal.status) \(ServerResponse.reason(refusal.status)): \(refusal.message)\n")
            return
        case .success(let path):
            script = path
        }
        let environment = CGIEnvironment.build(params: request.params, base: ProcessEnvironment.dictionary())
        let deadline = terminateTimeout > 0 ? started + terminateTimeout * 1_000_000_000 : nil
        let run = CGIRun(script: script, name: request.scriptFilename ?? script, request: request, response: response,
                         deadline: deadline, lingerNanos: Int(lingerSeconds * 1e9), handler: self)
        try run.execute(environment: environment)
    }

    func log(_ message: String) {
        (errorLog ?? ErrorLog.bootstrap()).warning("[pool \(poolName)] child \(Processes.pid): cgi: \(message)")
    }
}

/// One script execution: the poll loop between the request, the script's pipes and the response.
final class CGIRun {
    let script: String
    let name: String
    let request: ServerRequest
    let response: ServerResponse
    let deadline: Int?
    let lingerNanos: Int
    unowned let handler: CGIHandler

    /// The script and its pipes, owned: nil once `finish` reaped it and closed them.
    var process: SpawnedProcess?
    var parser = CGIResponseHeadParser()
    var headDone = false
    var headError: CGIResponseHead.ParseError?
    /// Body bytes read from the request and not yet written to the script:
    /// `bodyBuffer[bodyStart..<bodyEnd]`.
    var bodyBuffer = [UInt8](repeating: 0, count: CGIRun.chunkSize)
    var bodyStart = 0
    var bodyEnd = 0
    var bodyEnded = false
    /// The body waits for the request's connection to bring more bytes.
    var bodyWaitsForClient = false
    /// The script's exit status, once reaped.
    var status: ExitStatus?
    var stderrLine: [UInt8] = []
    var exited = false
    /// When the script exited or closed its output: the linger period starts.
    var windingDownSince: Int?
    var timedOut = false
    var stoppedEarly = false

    static let chunkSize = 64 * 1024
    static let tickMillis: Int32 = 200
    /// Body bytes moved to the script before its output is read again (one round of the loop).
    static let maxBodyPerRound = 4 << 20

    init(script: String, name: String, request: ServerRequest, response: ServerResponse, deadline: Int?, lingerNanos: Int,
         handler: CGIHandler) {
        self.script = script
        self.name = name
        self.request = request
        self.response = response
        self.deadline = deadline
        self.lingerNanos = lingerNanos
        self.handler = handler
    }

    func execute(environment: [[UInt8]]) throws {
        CGIGroupGuard.arm()
        var proc: SpawnedProcess
        do {
            proc = try Spawn.start(script, arguments: [script], environment: environment,
                                   directory: CGIScriptPolicy.directory(of: script), limits: handler.limits)
        } catch {
            CGIGroupGuard.disarm()
            handler.log("cannot start '\(name)': \(error)")
            throw error
        }
        let group = proc.group
        CGIGroupGuard.watch(group)
        defer { finish() }
        do {
            try loop(&proc)
        } catch {
            // A broken body (or a stalled client): the script is killed before it can see the
            // end of its stdin and act on a partial body; what it wrote is not its answer.
            stoppedEarly = true
            process = consume proc
            throw error
        }
        process = consume proc
        let exitStatus = finish()
        if let headError {
            handler.log("script '\(name)': \(headError)")
            if !response.headSent { try fail(502, "Bad Gateway: malformed response header from the script (\(headError))") }
        } else if !headDone {
            if timedOut {
                try fail(504, "Gateway Timeout: the script did not answer within request_terminate_timeout")
            } else if let exitStatus, !stoppedEarly, handler.limits.stoppedByCPULimit(exitStatus) {
                handler.log("script '\(name)' (request: \"\(request.method) \(request.uri)\") used up cgi.rlimit_cpu (\(handler.limits.cpuSeconds ?? 0)s): \(exitStatus)")
                try fail(504, "Gateway Timeout: the script used up its CPU time (cgi.rlimit_cpu)")
            } else if let exitStatus, exitStatus != .exited(code: 0), !stoppedEarly {
                // It failed (an error, a crash, an allocation refused under cgi.rlimit_as):
                // the application's own error, not a malformed answer.
                handler.log("script '\(name)' failed before its response head")
                try fail(500, "Internal Server Error: the script failed before its response head (\(exitStatus))")
            } else {
                handler.log("script '\(name)': premature end of script headers")
                try fail(502, "Bad Gateway: premature end of script headers")
            }
        }
        if timedOut {
            handler.log("script '\(name)' (request: \"\(request.method) \(request.uri)\") timed out after request_terminate_timeout; killed its process group \(group)")
        }
    }

    func fail(_ status: Int, _ message: String) throws {
        guard !response.headSent else { return }
        response.status = status
        try response.setHeader("Content-Type", "text/plain; charset=utf-8")
        try response.write(message + "\n")
    }

    /// Kills what is left of the group, reaps the script, closes the pipes; the script's exit
    /// status (once reaped, the same on every call).
    @discardableResult
    func finish() -> ExitStatus? {
        guard var proc = process.take() else { return status }
        // The script is not reaped yet, so its pid (and the group id) cannot have been reused.
        Spawn.signalGroup(proc.group, SIGKILL)
        CGIGroupGuard.watch(0)
        status = Spawn.reap(proc.pid)
        CGIGroupGuard.disarm()
        proc.closePipes()
        flushStderrLine()
        if let status, !timedOut, !stoppedEarly, status != .exited(code: 0) {
            handler.log("script '\(name)' \(status)")
        }
        return status
    }

    func loop(_ proc: inout SpawnedProcess) throws {
        var chunk = [UInt8](repeating: 0, count: CGIRun.chunkSize)
        let client = request.bodyDescriptor
        // Bounded by the script: each pass moves bytes or waits in poll, and the script's end,
        // request_terminate_timeout and the linger period each end the loop.
        while true {
            let now = SystemClock.monotonicNanos()
            if let deadline, now >= deadline { timedOut = true; return }
            if headError != nil { stoppedEarly = true; return }
            if proc.stdin != nil { try moveBody(&proc) }

            let output = proc.stdout?.rawValue, errors = proc.stderr?.rawValue
            let outputClosed = output == nil && errors == nil
            if !exited { exited = Spawn.hasExited(proc.pid) }
            if exited && outputClosed { return }
            if (exited || outputClosed) && windingDownSince == nil { windingDownSince = now }
            if let since = windingDownSince, now - since >= lingerNanos {
                stoppedEarly = true
                return
            }

            // Whichever side the body waits for is watched, so it moves as fast as both go.
            let input = proc.stdin?.rawValue
            var fds: [pollfd] = []
            if let input, bodyStart < bodyEnd {
                fds.append(pollfd(fd: input, events: Poll.writable, revents: 0))
            } else if input != nil && bodyWaitsForClient, let client {
                fds.append(pollfd(fd: client, events: Poll.readable, revents: 0))
            }
            if let output { fds.append(pollfd(fd: output, events: Poll.readable, revents: 0)) }
            if let errors { fds.append(pollfd(fd: errors, events: Poll.readable, revents: 0)) }
            var wait = Int(CGIRun.tickMillis)
            if outputClosed { wait = 10 }
            if let deadline { wait = min(wait, max(0, (deadline - now) / 1_000_000 + 1)) }
            if let since = windingDownSince { wait = min(wait, max(0, (since + lingerNanos - now) / 1_000_000 + 1)) }
            let ready = fds.isEmpty ? 0 : try Poll.wait(&fds, timeoutMillis: Int32(wait))
            if fds.isEmpty { SystemClock.sleep(nanos: wait * 1_000_000) }
            guard ready > 0 else { continue }
            for p in fds where p.revents != 0 {
                if p.fd == input {
                    if p.revents & Poll.failed != 0 { closeStdin(&proc) }
                } else if p.fd == output {
                    if try !readOutput(p.fd, &chunk) { proc.stdout.take()?.close() }
                } else if p.fd == errors {
                    if !readErrors(p.fd, &chunk) { proc.stderr.take()?.close() }
                }
                // The client's descriptor: the next `moveBody` reads what it brought.
            }
        }
    }

    /// Moves body bytes from the request to the script's stdin until one side would block
    /// (`bodyWaitsForClient` tells which), the body ends (stdin is closed: the script sees
    /// EOF), or `maxBodyPerRound` bytes moved. Throws `RequestBodyError` for a broken body.
    func moveBody(_ proc: inout SpawnedProcess) throws {
        bodyWaitsForClient = false
        var moved = 0
        while proc.stdin != nil && moved < CGIRun.maxBodyPerRound {
            if bodyStart == bodyEnd {
                guard !bodyEnded else { return }
                guard let n = try bodyBuffer.withUnsafeMutableBytes({ try request.readAvailable(into: $0) }) else {
                    bodyWaitsForClient = true
                    return
                }
                if n == 0 {
                    bodyEnded = true
                    closeStdin(&proc)
                    return
                }
                bodyStart = 0
                bodyEnd = n
            }
            let written = writeBody(&proc)
            guard written > 0 else { return }
            moved += written
        }
    }

    /// Writes what the pipe takes of the pending body bytes (non-blocking); how many.
    func writeBody(_ proc: inout SpawnedProcess) -> Int {
        guard let fd = proc.stdin?.rawValue else { return 0 }
        let start = bodyStart, end = bodyEnd
        do {
            let n = try bodyBuffer.withUnsafeBytes { b throws(SystemError) in
                try FileIO.writeNonBlocking(fd, UnsafeRawBufferPointer(rebasing: b[start..<end]))
            }
            guard let n else { return 0 }
            bodyStart += n
            return n
        } catch {
            // EPIPE: the script does not read its stdin (any more); the worker drains the rest.
            closeStdin(&proc)
            return 0
        }
    }

    func closeStdin(_ proc: inout SpawnedProcess) {
        proc.stdin.take()?.close()
        bodyStart = 0
        bodyEnd = 0
    }

    /// One read from stdout into the response; false at EOF.
    func readOutput(_ fd: Int32, _ chunk: inout [UInt8]) throws -> Bool {
        let n: Int
        switch Self.read(fd, &chunk) {
        case .bytes(let count): n = count
        case .notYet: return true
        case .closed: return false
        }
        if headDone {
            try chunk.withUnsafeBytes { try response.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            return true
        }
        do {
            let result = try chunk.withUnsafeBytes { raw throws(CGIResponseHead.ParseError) in
                try parser.feed(UnsafeRawBufferPointer(rebasing: raw[0..<n]))
            }
            if let (head, body) = result {
                headDone = true
                try apply(head)
                try response.write(body)
            }
        } catch let error as CGIResponseHead.ParseError {
            headError = error
        }
        return true
    }

    func apply(_ head: CGIResponseHead) throws {
        response.status = head.effectiveStatus
        // A script's own `Status: 200` passes through; none is added when it wrote none.
        response.sendsStatusLineFor200 = head.status != nil
        if let location = head.location { try response.addHeader("Location", location) }
        for field in head.fields { try response.addHeader(field.name, field.value) }
    }

    /// One read from stderr: to FCGI_STDERR and, by lines, to the log; false at EOF.
    func readErrors(_ fd: Int32, _ chunk: inout [UInt8]) -> Bool {
        let n: Int
        switch Self.read(fd, &chunk) {
        case .bytes(let count): n = count
        case .notYet: return true
        case .closed: return false
        }
        chunk.withUnsafeBytes { try? response.sink.writeError(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        for b in chunk[0..<n] {
            if b == 0x0A {
                flushStderrLine()
            } else if stderrLine.count < 1024 {
                stderrLine.append(b)
            }
        }
        return true
    }

    enum PipeRead { case bytes(Int), notYet, closed }

    /// One read from a pipe of the script. A failed read counts as EOF: the pipe is closed and
    /// the script carries on without it.
    static func read(_ fd: Int32, _ chunk: inout [UInt8]) -> PipeRead {
        do {
            let n = try chunk.withUnsafeMutableBytes { b throws(SystemError) in try FileIO.readNonBlocking(fd, into: b) }
            guard let n else { return .notYet }
            return n > 0 ? .bytes(n) : .closed
        } catch {
            return .closed
        }
    }

    func flushStderrLine() {
        guard !stderrLine.isEmpty else { return }
        var line = stderrLine
        if line.last == 0x0D { line.removeLast() }
        stderrLine.removeAll(keepingCapacity: true)
        handler.log("script '\(name)' said into stderr: \"\(String(decoding: line, as: UTF8.self))\"")
    }
}
