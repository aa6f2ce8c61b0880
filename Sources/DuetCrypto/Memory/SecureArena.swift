import CSodium
import Synchronization

/// Where `SecureBytes` keep their bytes: slots carved out of a few large `sodium_malloc`
/// regions (each locked against swapping where the system allows, with guard pages around the
/// region), handed out and taken back under one lock, zeroed when taken back.
///
/// Why not one `sodium_malloc` per secret, as before: each costs an mmap, mprotects and an
/// munmap, and in a threaded process every mprotect and munmap stops the other cores to flush
/// their TLBs while holding the process's address-space lock. A group call's key exchange makes
/// tens of thousands of short-lived secrets (X3DH, HKDF outputs, SFrame keys); with one mapping
/// each, a 32-member call spent a quarter of its CPU in those system calls and its threads
/// queued on that lock (docs/performance.md "Group settle"). A slot costs no system call.
///
/// What is given up: the guard pages are around each region, not each secret, a secret is no
/// longer made read-only after it is written, and a pointer used after its secret was released
/// reads or writes the next secret given that slot instead of faulting. What is kept: locked memory, zeroing with
/// `sodium_memzero` on release (whole slot), and no secret ever in the ordinary heap. Regions
/// are kept for the process's life (reused, never returned), so memory is bounded by the most
/// secrets alive at once; a secret larger than the largest slot gets a mapping of its own.
final class SecureArena: Sendable {
    /// The one arena of the process.
    static let shared = SecureArena()

    /// Slot sizes, each a power of two; a request takes the smallest that holds it.
    static let slotSizes = [32, 64, 128, 256, 512]
    /// Bytes of each region (one size class per region): four pages with the 16-byte canary
    /// `sodium_malloc` adds, so a region is locked whole under a locked-memory limit as low as
    /// 64 KiB (some containers), where a larger one would not be locked at all.
    static let regionSize = 16 * 1024 - 16

    private struct State {
        /// Free slots of each size class, as addresses.
        var free: [[UInt]] = Array(repeating: [], count: SecureArena.slotSizes.count)
    }

    private let state = Mutex(State())

    /// Bytes for a secret of `count` bytes: a slot (zeroed), or its own mapping when larger
    /// than any slot. Give it back with `release` and the same `count`.
    func allocate(_ count: Int) -> UnsafeMutableRawPointer {
        Sodium.ready()  // sodium_malloc needs the page size sodium_init reads
        guard let sizeClass = Self.sizeClass(for: count) else {
            guard let pointer = sodium_malloc(count) else { fatalError("sodium_malloc(\(count)) failed: out of memory") }
            return pointer
        }
        let address = state.withLock { state -> UInt in
            if state.free[sizeClass].isEmpty { state.free[sizeClass] = Self.mapRegion(slotSize: Self.slotSizes[sizeClass]) }
            return state.free[sizeClass].removeLast()
        }
        return UnsafeMutableRawPointer(bitPattern: address)!
    }

    /// Zeroes the whole slot (or mapping) and takes it back.
    func release(_ pointer: UnsafeMutableRawPointer, count: Int) {
        guard let sizeClass = Self.sizeClass(for: count) else {
            sodium_memzero(pointer, count)
            sodium_free(pointer)
            return
        }
        sodium_memzero(pointer, Self.slotSizes[sizeClass])
        let address = UInt(bitPattern: pointer)
        state.withLock { $0.free[sizeClass].append(address) }
    }

    /// Free slots of each size, for tests.
    var freeSlots: [Int] { state.withLock { $0.free.map(\.count) } }

    private static func sizeClass(for count: Int) -> Int? {
        slotSizes.firstIndex { count <= $0 }
    }

    /// A new region for `slotSize` slots, zeroed, as the addresses of its slots.
    private static func mapRegion(slotSize: Int) -> [UInt] {
        guard let region = sodium_malloc(regionSize) else { fatalError("sodium_malloc(\(regionSize)) failed: out of memory") }
        sodium_memzero(region, regionSize)
        let base = UInt(bitPattern: region)
        return (0..<(regionSize / slotSize)).reversed().map { base + UInt($0 * slotSize) }
    }
}
