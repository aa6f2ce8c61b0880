/// Cuts what OpenSSL wrote into its outgoing memory BIO into datagrams no larger than the MTU.
///
/// OpenSSL 3.0 writes each DTLS record with its own BIO_write, sized to fit the link MTU, but
/// a memory BIO (`BIO_s_mem`) keeps no boundaries between writes: a whole flight comes out as
/// one byte string. (`BIO_s_dgram_mem`, which keeps them, arrived in OpenSSL 3.2.) DTLS record
/// headers carry their own length (RFC 6347 §4.1: type 1, version 2, epoch 2, sequence 6,
/// length 2), so the records are found again here and packed, in order, several to a
/// datagram while they fit (RFC 6347 §4.1.1 allows several records per datagram). A record is
/// never split; one longer than the MTU (it cannot be, with the MTU set on the SSL) goes alone.
enum DTLSDatagramPacker {
    /// Bytes in a DTLS record header.
    static let recordHeaderLength = 13

    /// The records in `bytes`, in order. Trailing bytes that do not form a whole record
    /// become one last piece, so nothing OpenSSL wrote is lost.
    static func records(in bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var records: [ArraySlice<UInt8>] = []
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= recordHeaderLength else {
                records.append(bytes[offset...])
                break
            }
            let length = Int(bytes[offset + 11]) << 8 | Int(bytes[offset + 12])
            let end = min(bytes.count, offset + recordHeaderLength + length)
            records.append(bytes[offset..<end])
            offset = end
        }
        return records
    }

    /// Datagrams of whole records, each at most `mtu` bytes unless one record alone is larger.
    static func datagrams(from bytes: [UInt8], mtu: Int) -> [[UInt8]] {
        var datagrams: [[UInt8]] = []
        var current: [UInt8] = []
        for record in records(in: bytes) {
            if !current.isEmpty && current.count + record.count > mtu {
                datagrams.append(current)
                current = []
            }
            current += record
        }
        if !current.isEmpty { datagrams.append(current) }
        return datagrams
    }
}
