#pragma version 0.4.3
#pragma evm-version cancun
"""
@title Kota Cerdas ledger anchor
@notice Partners attest (root, size) pairs of the city's Merkle tree; a pair
        is final once `threshold` different partners have attested it.
@dev The partner set and the threshold are fixed at deployment. Changing
     them means deploying a new contract. Only one root can become final at
     a given size, so the contract never holds two final histories.
"""

MAX_PARTNERS: constant(uint256) = 32

event Attested:
    root: indexed(bytes32)
    size: uint256
    partner: indexed(address)
    count: uint256

event Finalized:
    root: indexed(bytes32)
    size: uint256

threshold: public(uint256)
partner_list: DynArray[address, MAX_PARTNERS]
is_partner: public(HashMap[address, bool])

# Keyed by keccak256(root ++ size).
attestation_count: HashMap[bytes32, uint256]
attested_by: HashMap[bytes32, HashMap[address, bool]]
final_root: HashMap[uint256, bytes32]
latest_final: uint256


@deploy
def __init__(partners: DynArray[address, MAX_PARTNERS], threshold: uint256):
    assert threshold >= 1, "threshold must be at least 1"
    assert threshold <= len(partners), "threshold exceeds the number of partners"
    for partner: address in partners:
        assert partner != empty(address), "partner is the zero address"
        assert not self.is_partner[partner], "partner listed twice"
        self.is_partner[partner] = True
    self.partner_list = partners
    self.threshold = threshold


@internal
@pure
def _key(root: bytes32, size: uint256) -> bytes32:
    return keccak256(concat(root, convert(size, bytes32)))


@external
def attest(root: bytes32, size: uint256):
    """
    @notice Record the caller's attestation of the tree `root` at `size`.
    @dev Reverts for a caller outside the partner set, a second attestation
         by the same partner, a zero size, and a root that conflicts with
         the root already final at that size.
    """
    assert self.is_partner[msg.sender], "not a partner"
    assert size > 0, "size must be positive"
    final: bytes32 = self.final_root[size]
    assert final == empty(bytes32) or final == root, "another root is final at this size"
    key: bytes32 = self._key(root, size)
    assert not self.attested_by[key][msg.sender], "already attested"

    self.attested_by[key][msg.sender] = True
    count: uint256 = self.attestation_count[key] + 1
    self.attestation_count[key] = count
    log Attested(root=root, size=size, partner=msg.sender, count=count)

    if count == self.threshold:
        self.final_root[size] = root
        if size > self.latest_final:
            self.latest_final = size
        log Finalized(root=root, size=size)


@external
@view
def attestations(root: bytes32, size: uint256) -> uint256:
    return self.attestation_count[self._key(root, size)]


@external
@view
def has_attested(root: bytes32, size: uint256, partner: address) -> bool:
    return self.attested_by[self._key(root, size)][partner]


@external
@view
def is_final(root: bytes32, size: uint256) -> bool:
    return self.attestation_count[self._key(root, size)] >= self.threshold


@external
@view
def final_root_at(size: uint256) -> bytes32:
    return self.final_root[size]


@external
@view
def latest_final_size() -> uint256:
    return self.latest_final


@external
@view
def partners() -> DynArray[address, MAX_PARTNERS]:
    return self.partner_list
