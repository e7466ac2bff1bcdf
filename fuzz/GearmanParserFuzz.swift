// libFuzzer entry for the Gearman codec. Built by mk/gearman.mk together with
// Sources/Gearman/*.swift (no module import: the sources are compiled into this binary).
//
// Input: byte 0 picks how the stream is split (chunk size 1...255, 0 = whole), byte 1 what
// reads it (bit 0: a server's request parser instead of a client's response parser; bit 1:
// the admin text reader); the rest is the stream. Invariants checked:
// - nothing crashes or traps, whatever the bytes;
// - the packets (or lines) and the error, if any, do not depend on where the stream is split;
// - the packets re-encode to exactly the bytes they were read from;
// - a packet that decodes to a typed request or response encodes back to a packet of its type;
// - an oversized announcement is refused without buffering its data.

let fuzzLimits = GearmanLimits(maxPacketSize: 2048, maxAdminLine: 256, maxAdminLines: 16)

struct PacketOutcome: Equatable {
    var packets: [GearmanPacket] = []
    var error: GearmanError?
    var leftover = 0
}

func readPackets(_ stream: UnsafeRawBufferPointer, chunk: Int, expecting: GearmanMagic) -> PacketOutcome {
    var parser = GearmanPacketParser(expecting: expecting, limits: fuzzLimits)
    var outcome = PacketOutcome()
    var offset = 0
    let step = chunk == 0 ? max(stream.count, 1) : chunk
    feeding: while offset < stream.count {
        let n = min(step, stream.count - offset)
        parser.append(UnsafeRawBufferPointer(rebasing: stream[offset..<offset + n]))
        offset += n
        do {
            while let packet = try parser.next() { outcome.packets.append(packet) }
        } catch {
            outcome.error = error
            precondition(parser.bufferedCount <= fuzzLimits.maxPacketSize + GearmanPacket.headerSize + step,
                         "buffered \(parser.bufferedCount) past the limit")
            break feeding
        }
    }
    if outcome.error == nil { outcome.leftover = parser.bufferedCount }
    return outcome
}

struct AdminOutcome: Equatable {
    var lists: [[String]] = []
    var error: GearmanError?
}

func readAdmin(_ stream: UnsafeRawBufferPointer, chunk: Int) -> AdminOutcome {
    var reader = GearmanAdminReader(limits: fuzzLimits)
    var outcome = AdminOutcome()
    var offset = 0
    let step = chunk == 0 ? max(stream.count, 1) : chunk
    feeding: while offset < stream.count {
        let n = min(step, stream.count - offset)
        reader.append(UnsafeRawBufferPointer(rebasing: stream[offset..<offset + n]))
        offset += n
        do {
            while let list = try reader.nextList() {
                outcome.lists.append(list)
                _ = try? GearmanFunctionStatus.parse(list)
                _ = try? GearmanWorkerStatus.parse(list)
            }
        } catch {
            outcome.error = error
            break feeding
        }
    }
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func gearmanParserFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let chunk = Int(data[0])
    let stream = UnsafeRawBufferPointer(start: data + 2, count: size - 2)
    if data[1] & 2 != 0 {
        let whole = readAdmin(stream, chunk: 0)
        let split = readAdmin(stream, chunk: chunk == 0 ? 1 : chunk)
        precondition(whole == split, "admin reading depends on how the stream is split (chunk \(chunk))")
        return 0
    }
    let expecting: GearmanMagic = data[1] & 1 != 0 ? .request : .response
    let whole = readPackets(stream, chunk: 0, expecting: expecting)
    let split = readPackets(stream, chunk: chunk == 0 ? 1 : chunk, expecting: expecting)
    precondition(whole == split, "packets depend on how the stream is split (chunk \(chunk))")
    var encoded: [UInt8] = []
    for packet in whole.packets {
        packet.encode(into: &encoded)
        precondition(packet.arguments.count == packet.type.argumentCount)
        switch expecting {
        case .request:
            if let request = try? GearmanRequest(packet) { precondition(request.packet.type == packet.type) }
        case .response:
            if let response = try? GearmanResponse(packet) { precondition(response.packet.type == packet.type) }
        }
    }
    precondition(encoded.elementsEqual(stream.prefix(encoded.count)), "packets do not re-encode to their bytes")
    if let error = whole.error { precondition(!error.description.isEmpty) }
    return 0
}
