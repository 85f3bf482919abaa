# iep-keygen: identities usable by age and minisign, safe file modes.
. "$(dirname "$0")/lib.sh"

expect 0 "keygen" -- iep-keygen --site trust-a -o a.id -c a.card
assert "secret identity is mode 0600" -- test "$(stat -c %a a.id)" = 600
assert "printed card equals card file" -- cmp -s .out a.card
expect 9 "refuses to overwrite an identity" -- iep-keygen --site trust-a -o a.id
stderr_names "overwrite message" "a.id"
expect 2 "bad site name" -- iep-keygen --site "Bad Name" -o x.id
nothing_left "no identity written for a bad name" x.id
expect 2 "missing --site" -- iep-keygen -o y.id

# The identity is an age identity file: age-keygen -y derives the same recipient.
age_rcpt=$(age-keygen -y a.id 2>/dev/null)
assert "age-keygen -y reads our identity" -- test -n "$age_rcpt"
assert "card carries the same age recipient" -- grep -qx "age-recipient: $age_rcpt" a.card

# The card is a minisign public key file.
echo hello >msg
expect 0 "iep-keygen -y prints the card again" -- iep-keygen -y a.id
assert "-y card identical" -- cmp -s .out a.card

# An identity readable by others is refused, like ssh does.
cp a.id open.id && chmod 644 open.id
make_study study 1
expect 10 "world-readable identity refused" -- iep-pack -i open.id -o p.tar.zst study
stderr_names "permission message" "chmod 600"
nothing_left "no package on refusal" p.tar.zst
chmod 640 open.id
expect 10 "group-readable identity refused" -- iep-pack -i open.id -o p.tar.zst study

# Identity lookup: IEP_IDENTITY, then ~/.config/iep/identity.
expect 10 "no identity anywhere" -- iep-pack -o p.tar.zst study
stderr_names "no identity message" "iep-keygen"
IEP_IDENTITY=$T/a.id expect 0 "IEP_IDENTITY" -- iep-pack -o p1.tar.zst study
expect 0 "keygen to the default place" -- iep-keygen --site trust-d
assert "default identity 0600" -- test "$(stat -c %a "$HOME/.config/iep/identity")" = 600
expect 0 "default identity used" -- iep-pack -o p2.tar.zst study
chmod 600 msg
expect 10 "malformed identity" -- iep-pack -i msg -o p3.tar.zst study

finish
