import Foundation
import HeraldCore

/// The `Encoder` behind `PayloadJSON.encode`: the bytes Foundation's `JSONEncoder` gives with `.sortedKeys`,
/// `.withoutEscapingSlashes` and RFC 3339 dates, except that object member names are kept byte for byte.
///
/// `JSONEncoder` stores an object's members under `String` keys, whose equality is canonical equivalence: a
/// `data` object holding both `"é"` and `"e\u0301"` (two different JSON names) came out with one of them, and
/// which one depended on hashing. Here members are `JSONKey`s, so both are written, in byte order.
struct PayloadEncoder {
    /// One value of the tree being built; containers are shared references so nested encoders can fill them.
    final class Slot {
        var node: Node = .null
        init(_ node: Node = .null) { self.node = node }
    }

    enum Node {
        case null
        case bool(Bool)
        /// The number as JSON text.
        case number(String)
        case string(String)
        case array(ArrayStorage)
        case object(ObjectStorage)
    }

    final class ArrayStorage {
        var elements: [Slot] = []
    }

    final class ObjectStorage {
        var members: [JSONKey: Slot] = [:]
    }

    /// Encodes `value` into JSON bytes.
    static func encode(_ value: some Encodable) throws -> Data {
        let root = Slot()
        try store(value, in: root, codingPath: [])
        var writer = PayloadJSON.Writer()
        write(root.node, into: &writer)
        return writer.data
    }

    /// Stores `value` in `slot`: dates and URLs the way `PayloadJSON` configured `JSONEncoder`, anything else
    /// through its own `encode(to:)`.
    static func store(_ value: some Encodable, in slot: Slot, codingPath: [any CodingKey]) throws {
        switch value {
        case let date as Date: slot.node = .string(Timestamp.format(date))
        case let url as URL: slot.node = .string(url.absoluteString)
        default: try value.encode(to: NodeEncoder(slot: slot, codingPath: codingPath))
        }
    }

    /// A double as `JSONEncoder` writes it (`3` for 3.0, `1e-07`); NaN and infinities are refused.
    static func number(_ value: Double, codingPath: [any CodingKey]) throws -> Node {
        guard value.isFinite else {
            throw EncodingError.invalidValue(
                value,
                EncodingError.Context(codingPath: codingPath, debugDescription: "\(value) is not a JSON number")
            )
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        return .number(text)
    }

    private static func write(_ node: Node, into writer: inout PayloadJSON.Writer) {
        switch node {
        case .null: writer.raw("null")
        case .bool(let flag): writer.bool(flag)
        case .number(let text): writer.raw(text)
        case .string(let text): writer.string(text)
        case .array(let storage):
            writer.array(storage.elements) { writer, element in write(element.node, into: &writer) }
        case .object(let storage):
            writer.object { members in
                for name in storage.members.keys.sorted() {
                    members.member(name.string) { write(storage.members[name]!.node, into: &$0) }
                }
            }
        }
    }
}

private struct NodeEncoder: Encoder {
    let slot: PayloadEncoder.Slot
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(KeyedNodeContainer<Key>(storage: objectStorage(), codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        UnkeyedNodeContainer(storage: arrayStorage(), codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleNodeContainer(slot: slot, codingPath: codingPath)
    }

    private func objectStorage() -> PayloadEncoder.ObjectStorage {
        if case .object(let storage) = slot.node { return storage }
        let storage = PayloadEncoder.ObjectStorage()
        slot.node = .object(storage)
        return storage
    }

    private func arrayStorage() -> PayloadEncoder.ArrayStorage {
        if case .array(let storage) = slot.node { return storage }
        let storage = PayloadEncoder.ArrayStorage()
        slot.node = .array(storage)
        return storage
    }
}

private struct KeyedNodeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let storage: PayloadEncoder.ObjectStorage
    let codingPath: [any CodingKey]

    private func put(_ node: PayloadEncoder.Node, _ key: Key) {
        storage.members[JSONKey(key.stringValue)] = PayloadEncoder.Slot(node)
    }

    mutating func encodeNil(forKey key: Key) throws { put(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        put(try PayloadEncoder.number(value, codingPath: codingPath + [key]), key)
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        put(try PayloadEncoder.number(Double(value), codingPath: codingPath + [key]), key)
    }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(.number(String(value)), key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        let slot = PayloadEncoder.Slot()
        storage.members[JSONKey(key.stringValue)] = slot
        try PayloadEncoder.store(value, in: slot, codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        NodeEncoder(slot: slot(for: key), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        NodeEncoder(slot: slot(for: key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        NodeEncoder(slot: slot(named: "super"), codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        NodeEncoder(slot: slot(for: key), codingPath: codingPath + [key])
    }

    private func slot(for key: Key) -> PayloadEncoder.Slot { slot(named: key.stringValue) }

    private func slot(named name: String) -> PayloadEncoder.Slot {
        let slot = PayloadEncoder.Slot()
        storage.members[JSONKey(name)] = slot
        return slot
    }
}

private struct UnkeyedNodeContainer: UnkeyedEncodingContainer {
    let storage: PayloadEncoder.ArrayStorage
    let codingPath: [any CodingKey]
    var count: Int { storage.elements.count }

    private func put(_ node: PayloadEncoder.Node) { storage.elements.append(PayloadEncoder.Slot(node)) }

    private func next() -> PayloadEncoder.Slot {
        let slot = PayloadEncoder.Slot()
        storage.elements.append(slot)
        return slot
    }

    private var elementPath: [any CodingKey] { codingPath + [IndexKey(intValue: count)] }

    mutating func encodeNil() throws { put(.null) }
    mutating func encode(_ value: Bool) throws { put(.bool(value)) }
    mutating func encode(_ value: String) throws { put(.string(value)) }
    mutating func encode(_ value: Double) throws { put(try PayloadEncoder.number(value, codingPath: elementPath)) }
    mutating func encode(_ value: Float) throws {
        put(try PayloadEncoder.number(Double(value), codingPath: elementPath))
    }
    mutating func encode(_ value: Int) throws { put(.number(String(value))) }
    mutating func encode(_ value: Int8) throws { put(.number(String(value))) }
    mutating func encode(_ value: Int16) throws { put(.number(String(value))) }
    mutating func encode(_ value: Int32) throws { put(.number(String(value))) }
    mutating func encode(_ value: Int64) throws { put(.number(String(value))) }
    mutating func encode(_ value: UInt) throws { put(.number(String(value))) }
    mutating func encode(_ value: UInt8) throws { put(.number(String(value))) }
    mutating func encode(_ value: UInt16) throws { put(.number(String(value))) }
    mutating func encode(_ value: UInt32) throws { put(.number(String(value))) }
    mutating func encode(_ value: UInt64) throws { put(.number(String(value))) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let path = elementPath
        try PayloadEncoder.store(value, in: next(), codingPath: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        let path = elementPath
        return NodeEncoder(slot: next(), codingPath: path).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = elementPath
        return NodeEncoder(slot: next(), codingPath: path).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let path = elementPath
        return NodeEncoder(slot: next(), codingPath: path)
    }
}

private struct SingleNodeContainer: SingleValueEncodingContainer {
    let slot: PayloadEncoder.Slot
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { slot.node = .null }
    mutating func encode(_ value: Bool) throws { slot.node = .bool(value) }
    mutating func encode(_ value: String) throws { slot.node = .string(value) }
    mutating func encode(_ value: Double) throws {
        slot.node = try PayloadEncoder.number(value, codingPath: codingPath)
    }
    mutating func encode(_ value: Float) throws {
        slot.node = try PayloadEncoder.number(Double(value), codingPath: codingPath)
    }
    mutating func encode(_ value: Int) throws { slot.node = .number(String(value)) }
    mutating func encode(_ value: Int8) throws { slot.node = .number(String(value)) }
    mutating func encode(_ value: Int16) throws { slot.node = .number(String(value)) }
    mutating func encode(_ value: Int32) throws { slot.node = .number(String(value)) }
    mutating func encode(_ value: Int64) throws { slot.node = .number(String(value)) }
    mutating func encode(_ value: UInt) throws { slot.node = .number(String(value)) }
    mutating func encode(_ value: UInt8) throws { slot.node = .number(String(value)) }
    mutating func encode(_ value: UInt16) throws { slot.node = .number(String(value)) }
    mutating func encode(_ value: UInt32) throws { slot.node = .number(String(value)) }
    mutating func encode(_ value: UInt64) throws { slot.node = .number(String(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try PayloadEncoder.store(value, in: slot, codingPath: codingPath)
    }
}

private struct IndexKey: CodingKey {
    var stringValue: String { "Index \(intValue!)" }
    var intValue: Int?
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}
