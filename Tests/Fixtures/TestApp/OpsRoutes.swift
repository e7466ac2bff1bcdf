import FPM
import FPMSystem

/// `/sleep`'s wait, a function of its own so the slowlog's stack has a frame that names it.
@inline(never)
func slowRouteSleep(milliseconds ms: Int) {
    SystemClock.sleep(nanos: ms * 1_000_000)
}

/// `/say?text=T&times=N&to=stdout|stderr&newline=0&ms=M`: the worker writes T repeated N
/// times (stdout through `print`, stderr with write(2)), after M ms, for the
/// catch_workers_output tests.
func sayRoute(_ query: URLEncodedParameters) -> String {
    if let ms = Int(query["ms"] ?? ""), ms > 0 { slowRouteSleep(milliseconds: ms) }
    let text = String(repeating: query["text"] ?? "hello", count: max(1, min(Int(query["times"] ?? "1") ?? 1, 100_000)))
    let newline = query["newline"] != "0"
    if query["to"] == "stdout" {
        print(text, terminator: newline ? "\n" : "")
    } else {
        try? FileIO.writeAll(2, text + (newline ? "\n" : ""))
    }
    return "said \(text.utf8.count) bytes\n"
}
