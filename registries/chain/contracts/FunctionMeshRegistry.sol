// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title FunctionMeshRegistry
/// @notice Namespace ownership, publisher keys and record anchors for function-mesh.
/// @dev Namespaces and names are stored under keccak256 of their normalized (lowercase) text, the
/// text the mesh's name parser produces. The contract refuses text that parser would refuse, so a
/// claim can never sit under a spelling no lookup reaches. One Ethereum account owns a namespace and
/// is the only account that changes it: keys, anchors, version marks. Publisher keys are the 32-byte
/// ed25519 public keys inside the did:keys that sign records off chain.
contract FunctionMeshRegistry {
    uint256 public constant MAX_NAMESPACE_LENGTH = 253;
    uint256 public constant MAX_NAME_LENGTH = 256;
    uint256 public constant MAX_PATH_SEGMENTS = 8;
    uint256 public constant MAX_SEGMENT_LENGTH = 64;
    uint256 public constant MAX_VERSION_LENGTH = 64;
    uint256 public constant MAX_PUBLISHERS = 16;
    uint256 public constant MAX_VERSION_MARKS = 64;
    uint256 public constant MAX_CID_LENGTH = 128;
    uint256 public constant MAX_INLINE_LENGTH = 4096;

    /// @notice `pointerKind`: the pointer is a CID's string form (bytes of its multibase text).
    uint8 public constant POINTER_CID = 1;
    /// @notice `pointerKind`: the pointer is the record's canonical bytes; sha256(pointer) == recordDigest.
    uint8 public constant POINTER_INLINE = 2;

    /// @notice Version mark flags; a mark of 0 clears the version's entry.
    uint8 public constant DEPRECATED = 1;
    uint8 public constant YANKED = 2;

    struct Namespace {
        address owner;
        uint64 claimedAtBlock;
        address pendingOwner;
    }

    struct Anchor {
        bytes32 nsHash;
        bytes32 recordDigest;
        bytes32 versionSetDigest;
        uint64 seq;
        uint64 updatedAtBlock;
        uint8 pointerKind;
        bytes pointer;
    }

    struct VersionMark {
        string version;
        uint8 status;
        uint64 updatedAtBlock;
    }

    mapping(bytes32 nsHash => Namespace) private _namespaces;
    mapping(bytes32 nsHash => bytes32[]) private _publishers;
    mapping(bytes32 nsHash => mapping(bytes32 key => uint256 indexPlusOne)) private _publisherIndex;
    mapping(bytes32 nameHash => Anchor) private _anchors;
    mapping(bytes32 nameHash => VersionMark[]) private _marks;
    mapping(bytes32 nameHash => mapping(bytes32 versionHash => uint256 indexPlusOne)) private _markIndex;

    event NamespaceClaimed(bytes32 indexed nsHash, address indexed owner, string namespace);
    event OwnershipTransferStarted(bytes32 indexed nsHash, address indexed owner, address indexed pendingOwner);
    event OwnershipTransferCancelled(bytes32 indexed nsHash, address indexed owner, address indexed pendingOwner);
    event OwnershipTransferred(bytes32 indexed nsHash, address indexed previousOwner, address indexed newOwner);
    event PublisherAdded(bytes32 indexed nsHash, bytes32 indexed key);
    event PublisherRemoved(bytes32 indexed nsHash, bytes32 indexed key);
    event RecordAnchored(
        bytes32 indexed nsHash,
        bytes32 indexed nameHash,
        string name,
        uint64 seq,
        bytes32 recordDigest,
        bytes32 versionSetDigest,
        uint8 pointerKind,
        bytes pointer
    );
    event VersionMarked(
        bytes32 indexed nsHash,
        bytes32 indexed nameHash,
        bytes32 indexed versionHash,
        string name,
        string version,
        uint8 previous,
        uint8 status
    );

    error InvalidNamespace(string namespace);
    error InvalidName(string name);
    error InvalidVersion(string version);
    error AlreadyClaimed(bytes32 nsHash, address owner);
    error UnknownNamespace(bytes32 nsHash);
    error NotOwner(bytes32 nsHash, address caller);
    error NotPendingOwner(bytes32 nsHash, address caller);
    error NoPendingTransfer(bytes32 nsHash);
    error InvalidNewOwner(address newOwner);
    error InvalidKey();
    error KeyExists(bytes32 nsHash, bytes32 key);
    error UnknownKey(bytes32 nsHash, bytes32 key);
    error TooManyKeys(uint256 max);
    error StaleSeq(uint64 current, uint64 given);
    error InvalidPointer(uint8 pointerKind, uint256 length);
    error PointerTooLong(uint256 length, uint256 max);
    error DigestMismatch(bytes32 recordDigest, bytes32 inlineDigest);
    error InvalidStatus(uint8 status);
    error TooManyVersionMarks(uint256 max);

    // ---- namespaces ----

    /// @notice Claims `namespace` for the caller; the first claim wins.
    function claim(string calldata namespace) external returns (bytes32 nsHash) {
        if (!_validNamespace(bytes(namespace))) revert InvalidNamespace(namespace);
        nsHash = keccak256(bytes(namespace));
        Namespace storage ns = _namespaces[nsHash];
        if (ns.owner != address(0)) revert AlreadyClaimed(nsHash, ns.owner);
        ns.owner = msg.sender;
        ns.claimedAtBlock = uint64(block.number);
        emit NamespaceClaimed(nsHash, msg.sender, namespace);
    }

    /// @notice Starts a transfer; nothing changes until `to` calls `acceptOwnership`.
    function transferOwnership(bytes32 nsHash, address to) external {
        Namespace storage ns = _owned(nsHash);
        if (to == address(0) || to == ns.owner) revert InvalidNewOwner(to);
        ns.pendingOwner = to;
        emit OwnershipTransferStarted(nsHash, ns.owner, to);
    }

    /// @notice Withdraws a pending transfer.
    function cancelOwnershipTransfer(bytes32 nsHash) external {
        Namespace storage ns = _owned(nsHash);
        address pending = ns.pendingOwner;
        if (pending == address(0)) revert NoPendingTransfer(nsHash);
        delete ns.pendingOwner;
        emit OwnershipTransferCancelled(nsHash, ns.owner, pending);
    }

    /// @notice Completes a transfer. The previous owner's publisher keys are removed: the new owner
    /// starts with exactly the keys it adds. Anchors and version marks stay.
    function acceptOwnership(bytes32 nsHash) external {
        Namespace storage ns = _namespaces[nsHash];
        if (ns.owner == address(0)) revert UnknownNamespace(nsHash);
        if (ns.pendingOwner != msg.sender) revert NotPendingOwner(nsHash, msg.sender);
        address previous = ns.owner;
        ns.owner = msg.sender;
        delete ns.pendingOwner;
        _clearPublishers(nsHash);
        emit OwnershipTransferred(nsHash, previous, msg.sender);
    }

    // ---- publisher keys ----

    function addPublisher(bytes32 nsHash, bytes32 key) external {
        _owned(nsHash);
        if (key == bytes32(0)) revert InvalidKey();
        if (_publisherIndex[nsHash][key] != 0) revert KeyExists(nsHash, key);
        bytes32[] storage keys = _publishers[nsHash];
        if (keys.length >= MAX_PUBLISHERS) revert TooManyKeys(MAX_PUBLISHERS);
        keys.push(key);
        _publisherIndex[nsHash][key] = keys.length;
        emit PublisherAdded(nsHash, key);
    }

    function removePublisher(bytes32 nsHash, bytes32 key) external {
        _owned(nsHash);
        uint256 indexPlusOne = _publisherIndex[nsHash][key];
        if (indexPlusOne == 0) revert UnknownKey(nsHash, key);
        bytes32[] storage keys = _publishers[nsHash];
        bytes32 last = keys[keys.length - 1];
        keys[indexPlusOne - 1] = last;
        _publisherIndex[nsHash][last] = indexPlusOne;
        keys.pop();
        delete _publisherIndex[nsHash][key];
        emit PublisherRemoved(nsHash, key);
    }

    // ---- record anchors ----

    /// @notice Anchors the record now current for `name` (`namespace/path`). Only the namespace owner
    /// publishes, and only with a seq above the anchored one.
    function publish(
        string calldata name,
        uint64 seq,
        bytes32 recordDigest,
        bytes32 versionSetDigest,
        uint8 pointerKind,
        bytes calldata pointer
    ) external {
        bytes32 nsHash = _nameNamespace(name);
        _owned(nsHash);
        _checkPointer(recordDigest, pointerKind, pointer);
        bytes32 nameHash = keccak256(bytes(name));
        Anchor storage anchor = _anchors[nameHash];
        if (seq <= anchor.seq) revert StaleSeq(anchor.seq, seq);
        anchor.nsHash = nsHash;
        anchor.recordDigest = recordDigest;
        anchor.versionSetDigest = versionSetDigest;
        anchor.seq = seq;
        anchor.updatedAtBlock = uint64(block.number);
        anchor.pointerKind = pointerKind;
        anchor.pointer = pointer;
        emit RecordAnchored(nsHash, nameHash, name, seq, recordDigest, versionSetDigest, pointerKind, pointer);
    }

    /// @notice Marks one version of `name` deprecated and/or yanked (flags), or clears it with 0.
    /// A mark holds whatever record a reader finds; it does not change the anchored seq.
    function markVersion(string calldata name, string calldata version, uint8 status) external {
        bytes32 nsHash = _nameNamespace(name);
        _owned(nsHash);
        if (!_validVersion(bytes(version))) revert InvalidVersion(version);
        if (status > (DEPRECATED | YANKED)) revert InvalidStatus(status);
        bytes32 nameHash = keccak256(bytes(name));
        bytes32 versionHash = keccak256(bytes(version));
        uint8 previous = _setMark(nameHash, versionHash, version, status);
        emit VersionMarked(nsHash, nameHash, versionHash, name, version, previous, status);
    }

    // ---- views: each answers a lookup in one eth_call ----

    function ownerOf(bytes32 nsHash) external view returns (address) {
        return _namespaces[nsHash].owner;
    }

    function namespaceOf(bytes32 nsHash) external view returns (Namespace memory ns, bytes32[] memory publishers) {
        return (_namespaces[nsHash], _publishers[nsHash]);
    }

    function publishersOf(bytes32 nsHash) external view returns (bytes32[] memory) {
        return _publishers[nsHash];
    }

    function isPublisher(bytes32 nsHash, bytes32 key) external view returns (bool) {
        return _publisherIndex[nsHash][key] != 0;
    }

    /// @notice The anchor of `nameHash`; seq 0 when nothing is anchored.
    function anchorOf(bytes32 nameHash) external view returns (Anchor memory) {
        return _anchors[nameHash];
    }

    function versionMarksOf(bytes32 nameHash) external view returns (VersionMark[] memory) {
        return _marks[nameHash];
    }

    function versionStatusOf(bytes32 nameHash, bytes32 versionHash) external view returns (uint8) {
        uint256 indexPlusOne = _markIndex[nameHash][versionHash];
        return indexPlusOne == 0 ? 0 : _marks[nameHash][indexPlusOne - 1].status;
    }

    /// @notice Everything a resolve needs about `name`: its anchor, its namespace's owner and
    /// publisher keys, and its version marks. The name is split at its first "/", not validated.
    function lookup(string calldata name)
        external
        view
        returns (Anchor memory anchor, address owner, bytes32[] memory publishers, VersionMark[] memory marks)
    {
        bytes calldata text = bytes(name);
        uint256 slash = _indexOfSlash(text);
        if (slash == type(uint256).max) revert InvalidName(name);
        bytes32 nsHash = keccak256(text[:slash]);
        bytes32 nameHash = keccak256(text);
        return (_anchors[nameHash], _namespaces[nsHash].owner, _publishers[nsHash], _marks[nameHash]);
    }

    // ---- internals ----

    function _owned(bytes32 nsHash) private view returns (Namespace storage ns) {
        ns = _namespaces[nsHash];
        if (ns.owner == address(0)) revert UnknownNamespace(nsHash);
        if (ns.owner != msg.sender) revert NotOwner(nsHash, msg.sender);
    }

    function _clearPublishers(bytes32 nsHash) private {
        bytes32[] storage keys = _publishers[nsHash];
        for (uint256 i = keys.length; i > 0; i--) {
            bytes32 key = keys[i - 1];
            delete _publisherIndex[nsHash][key];
            keys.pop();
            emit PublisherRemoved(nsHash, key);
        }
    }

    function _setMark(bytes32 nameHash, bytes32 versionHash, string calldata version, uint8 status)
        private
        returns (uint8 previous)
    {
        VersionMark[] storage marks = _marks[nameHash];
        uint256 indexPlusOne = _markIndex[nameHash][versionHash];
        if (indexPlusOne != 0) {
            VersionMark storage mark = marks[indexPlusOne - 1];
            previous = mark.status;
            if (status != 0) {
                mark.status = status;
                mark.updatedAtBlock = uint64(block.number);
                return previous;
            }
            VersionMark storage last = marks[marks.length - 1];
            if (indexPlusOne != marks.length) {
                _markIndex[nameHash][keccak256(bytes(last.version))] = indexPlusOne;
                marks[indexPlusOne - 1] = last;
            }
            marks.pop();
            delete _markIndex[nameHash][versionHash];
            return previous;
        }
        if (status == 0) return 0;
        if (marks.length >= MAX_VERSION_MARKS) revert TooManyVersionMarks(MAX_VERSION_MARKS);
        marks.push(VersionMark({version: version, status: status, updatedAtBlock: uint64(block.number)}));
        _markIndex[nameHash][versionHash] = marks.length;
        return 0;
    }

    function _checkPointer(bytes32 recordDigest, uint8 pointerKind, bytes calldata pointer) private pure {
        uint256 length = pointer.length;
        if (pointerKind == POINTER_CID) {
            if (length == 0 || length > MAX_CID_LENGTH) revert InvalidPointer(pointerKind, length);
        } else if (pointerKind == POINTER_INLINE) {
            if (length == 0) revert InvalidPointer(pointerKind, length);
            if (length > MAX_INLINE_LENGTH) revert PointerTooLong(length, MAX_INLINE_LENGTH);
            bytes32 inlineDigest = sha256(pointer);
            if (inlineDigest != recordDigest) revert DigestMismatch(recordDigest, inlineDigest);
        } else {
            revert InvalidPointer(pointerKind, length);
        }
    }

    /// @dev Validates `namespace/path` as the mesh's name parser does; returns the namespace's hash.
    function _nameNamespace(string calldata name) private pure returns (bytes32) {
        bytes calldata text = bytes(name);
        if (text.length > MAX_NAME_LENGTH) revert InvalidName(name);
        uint256 slash = _indexOfSlash(text);
        if (slash == type(uint256).max) revert InvalidName(name);
        bytes calldata namespace = text[:slash];
        if (!_validNamespace(namespace) || !_validPath(text[slash + 1:])) revert InvalidName(name);
        return keccak256(namespace);
    }

    function _indexOfSlash(bytes calldata text) private pure returns (uint256) {
        for (uint256 i = 0; i < text.length; i++) {
            if (text[i] == "/") return i;
        }
        return type(uint256).max;
    }

    /// @dev Dot-separated labels of 1-63 of a-z, 0-9, "-", not starting or ending with "-".
    function _validNamespace(bytes calldata text) private pure returns (bool) {
        uint256 length = text.length;
        if (length == 0 || length > MAX_NAMESPACE_LENGTH) return false;
        uint256 labelStart = 0;
        for (uint256 i = 0; i <= length; i++) {
            bytes1 c = i < length ? text[i] : bytes1(".");
            if (c == ".") {
                uint256 labelLength = i - labelStart;
                if (labelLength == 0 || labelLength > 63 || text[i - 1] == "-") return false;
                labelStart = i + 1;
            } else if (c == "-") {
                if (i == labelStart) return false;
            } else if (!_isAlnum(c)) {
                return false;
            }
        }
        return true;
    }

    /// @dev 1-8 "/"-separated segments of 1-64 of a-z, 0-9, ".", "_", "-", starting and ending with a
    /// letter or digit, without "..".
    function _validPath(bytes calldata text) private pure returns (bool) {
        uint256 length = text.length;
        if (length == 0) return false;
        uint256 segments = 1;
        uint256 segmentStart = 0;
        for (uint256 i = 0; i <= length; i++) {
            bytes1 c = i < length ? text[i] : bytes1("/");
            if (c == "/") {
                uint256 segmentLength = i - segmentStart;
                if (segmentLength == 0 || segmentLength > MAX_SEGMENT_LENGTH || !_isAlnum(text[i - 1])) return false;
                if (i < length && ++segments > MAX_PATH_SEGMENTS) return false;
                segmentStart = i + 1;
            } else if (c == "." || c == "_" || c == "-") {
                if (i == segmentStart || (c == "." && text[i - 1] == ".")) return false;
            } else if (!_isAlnum(c)) {
                return false;
            }
        }
        return true;
    }

    /// @dev A semver string's characters: 0-9, A-Z, a-z, ".", "-", "+".
    function _validVersion(bytes calldata text) private pure returns (bool) {
        uint256 length = text.length;
        if (length == 0 || length > MAX_VERSION_LENGTH) return false;
        for (uint256 i = 0; i < length; i++) {
            bytes1 c = text[i];
            bool ok = _isAlnum(c) || (c >= "A" && c <= "Z") || c == "." || c == "-" || c == "+";
            if (!ok) return false;
        }
        return true;
    }

    function _isAlnum(bytes1 c) private pure returns (bool) {
        return (c >= "a" && c <= "z") || (c >= "0" && c <= "9");
    }
}
