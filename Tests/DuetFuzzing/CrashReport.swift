import Glibc  // sigaction, write: Duet's tests run on Linux (Debian 12)

/// A trap (index out of range, overflow, precondition) cannot be caught: it ends the test
/// process. So while a property runs, the input it runs on is kept in memory allocated up
/// front, and a handler for the crash signals writes the target, seed, iteration and input
/// (hex) to stderr before handing the signal on to whoever handled it before (Swift's
/// backtracer, or the default): a crash prints its own replay line, like any other failure.
///
/// Only async-signal-safe work happens in the handler: `write(2)` of bytes prepared by
/// `enter`. One slot for the whole process: exact when tests run one at a time
/// (`--no-parallel`, as `make test` and `make fuzz` run them).
enum CrashReport {
    private static let signals: [Int32] = [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT]
    private static let inputCapacity = 1 << 17
    private static let textCapacity = 1024

    private struct Slot {
        /// "fuzz NAME crashed: seed 0xS iteration "
        var header: UnsafeMutablePointer<UInt8>
        var headerLength = 0
        /// " swift test … --filter F"
        var replay: UnsafeMutablePointer<UInt8>
        var replayLength = 0
        /// "DUET_FUZZ_SEED=0xS DUET_FUZZ_ITERATION="
        var seed: UnsafeMutablePointer<UInt8>
        var seedLength = 0
        var input: UnsafeMutablePointer<UInt8>
        var inputLength = 0
        var inputTotal = 0
        var iteration = 0
        var active = false
        /// Scratch for hex and numbers, so the handler allocates nothing.
        var scratch: UnsafeMutablePointer<UInt8>
        var previous: UnsafeMutablePointer<sigaction>
        var installed = false
        var target = ""
    }

    nonisolated(unsafe) private static var slot = Slot(
        header: .allocate(capacity: textCapacity), replay: .allocate(capacity: textCapacity),
        seed: .allocate(capacity: textCapacity), input: .allocate(capacity: inputCapacity),
        scratch: .allocate(capacity: 8192), previous: .allocate(capacity: 65))

    /// Notes the input a property is about to run on (and installs the handler once).
    static func enter(_ target: FuzzTarget, iteration: Int, input: [UInt8]) {
        install()
        if slot.target != target.name + target.filter {
            slot.target = target.name + target.filter
            let seed = "0x" + String(target.seed, radix: 16)
            slot.headerLength = copy("\nfuzz \(target.name) crashed: seed \(seed) iteration ", to: slot.header)
            slot.seedLength = copy("\(FuzzBudget.seedVariable)=\(seed) \(FuzzBudget.iterationVariable)=", to: slot.seed)
            slot.replayLength = copy(" swift test --skip-build --disable-xctest --no-parallel --filter \(target.filter)\n", to: slot.replay)
        }
        slot.iteration = iteration
        slot.inputTotal = input.count
        slot.inputLength = min(input.count, inputCapacity)
        input.withUnsafeBufferPointer { bytes in
            if let base = bytes.baseAddress { slot.input.update(from: base, count: slot.inputLength) }
        }
        slot.active = true
    }

    /// The property finished without crashing.
    static func leave() {
        slot.active = false
    }

    private static func install() {
        guard !slot.installed else { return }
        slot.installed = true
        for signal in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in CrashReport.handle(signal) }
            sigemptyset(&action.sa_mask)
            // On the alternate stack when there is one (Swift's runtime sets one up), so a
            // stack overflow is reported too.
            action.sa_flags = Int32(SA_ONSTACK)
            sigaction(signal, &action, slot.previous + Int(signal))
        }
    }

    private static func copy(_ text: String, to buffer: UnsafeMutablePointer<UInt8>) -> Int {
        let bytes = Array(text.utf8.prefix(textCapacity))
        buffer.update(from: bytes, count: bytes.count)
        return bytes.count
    }

    /// In the signal handler: write what was being fuzzed, then put back the previous
    /// handler and return, so the faulting instruction runs again and reaches it.
    private static func handle(_ signal: Int32) {
        if slot.active {
            slot.active = false
            write(slot.header, slot.headerLength)
            writeNumber(slot.iteration)
            writeText(", input (")
            writeNumber(slot.inputTotal)
            writeText(slot.inputLength < slot.inputTotal ? " bytes, first ones only): " : " bytes): ")
            let digits: StaticString = "0123456789abcdef"
            var offset = 0
            while offset < slot.inputLength {
                let count = min(4096, slot.inputLength - offset)
                for i in 0..<count {
                    let byte = slot.input[offset + i]
                    slot.scratch[2 * i] = digits.utf8Start[Int(byte >> 4)]
                    slot.scratch[2 * i + 1] = digits.utf8Start[Int(byte & 0x0F)]
                }
                write(slot.scratch, 2 * count)
                offset += count
            }
            writeText("\n  replay: ")
            write(slot.seed, slot.seedLength)
            writeNumber(slot.iteration)
            write(slot.replay, slot.replayLength)
        }
        sigaction(signal, slot.previous + Int(signal), nil)
    }

    private static func write(_ bytes: UnsafePointer<UInt8>, _ count: Int) {
        var done = 0
        while done < count {
            let written = Glibc.write(2, bytes + done, count - done)
            if written <= 0 { return }
            done += written
        }
    }

    private static func writeText(_ text: StaticString) {
        write(text.utf8Start, text.utf8CodeUnitCount)
    }

    private static func writeNumber(_ value: Int) {
        var value = value, length = 0
        repeat {
            slot.scratch[8191 - length] = UInt8(ascii: "0") + UInt8(value % 10)
            value /= 10
            length += 1
        } while value > 0
        write(slot.scratch + 8192 - length, length)
    }
}
