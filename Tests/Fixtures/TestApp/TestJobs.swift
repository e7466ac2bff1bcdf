import FPM
import FPMSystem
import Glibc

/// The test app's job handler (`handler = testjobs` in a job pool), for the job integration
/// tests. What it does depends on the function the job was submitted to:
/// - `record`: appends "UNIQUE PID\n" to the file in env[TESTJOBS_DONE] (O_APPEND, one write)
///   and returns the payload;
/// - `leak`: keeps 1 MiB for the life of the worker (pm.max_memory tests), returns "ok";
/// - `slow`: sleeps the payload's milliseconds, then records as `record` does;
/// - `fail`: throws `JobFailed`; `boom`: throws another error (WORK_EXCEPTION);
/// - `progress`: reports 1 of 2 and a data chunk, then returns "done".
final class TestJobs: JobHandler {
    var donePath: String?
    var leaked: [[UInt8]] = []
    var pidText = ""

    struct Boom: Error, CustomStringConvertible { var description: String { "boom from the test job" } }

    func setUp(_ worker: WorkerInfo) throws {
        pidText = String(worker.pid)
        donePath = worker.environment.first(where: { $0.0 == "TESTJOBS_DONE" })?.1
    }

    func run(_ job: Job) throws -> [UInt8] {
        switch job.function {
        case "leak":
            var block = [UInt8](repeating: 0, count: 1 << 20)
            // Touch every page so the memory is really resident.
            for i in stride(from: 0, to: block.count, by: 4096) { block[i] = 1 }
            leaked.append(block)
            return Array("ok".utf8)
        case "slow":
            let ms = Int(job.payloadText) ?? 100
            SystemClock.sleep(nanos: ms * 1_000_000)
            record(job)
            return job.payload
        case "fail":
            throw JobFailed()
        case "boom":
            throw Boom()
        case "progress":
            try job.progress(1, of: 2)
            try job.send(Array("part".utf8))
            return Array("done".utf8)
        default:
            record(job)
            return job.payload
        }
    }

    func record(_ job: Job) {
        guard let donePath, let fd = try? FileIO.open(donePath, O_WRONLY | O_CREAT | O_APPEND, mode: 0o644) else { return }
        try? FileIO.writeAll(fd, "\(job.unique) \(pidText)\n")
        FileIO.close(fd)
    }
}
