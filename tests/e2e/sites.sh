# Site cards: a card's file name is the site it names, one name has one card
# and one key one name, across every site folder; a trusted site cannot pose
# as another.
. "$(dirname "$0")/lib.sh"
make_sites
A=$T/keys/a.id B=$T/keys/b.id
make_study study 2

# The genuine package from trust-a opens.
expect 0 "seal from trust-a" -- iep-send -i "$A" --to trust-b --output genuine.iep study
expect 0 "open from trust-a" -- iep-open -v -i "$B" -o genuine genuine.iep
assert "shown as from trust-a" -- grep -q "from trust-a" "$T/.err"

# trust-c's operator makes a second identity that calls itself trust-a, and
# its card gets installed under another name.
expect 0 "keygen of the impostor" -- iep-keygen --site trust-a -o rogue.id -c rogue.card
cp rogue.card sites/rogue.card
expect 0 "the impostor seals for trust-b" -- iep-send -i rogue.id --to trust-b --output rogue.iep study
expect 10 "a card installed under another name than its site" -- iep-open -i "$B" -o out1 rogue.iep
stderr_names "names the misnamed card" "sites/rogue.card: the card is for site 'trust-a' but is installed as 'rogue.card'"
nothing_left "nothing opened" out1
expect 10 "the genuine package does not open either while the bad card is there" -- iep-open -i "$B" -o out2 genuine.iep
stderr_names "names the misnamed card again" "sites/rogue.card"
expect 10 "iep-verify refuses too" -- iep-verify -i "$B" genuine.iep
stderr_names "iep-verify names it" "sites/rogue.card"
rm sites/rogue.card

# Installed as trust-x.card, with no trust-x site: still misnamed.
cp rogue.card sites/trust-x.card
expect 10 "a card that names another site than its file" -- iep-open -i "$B" -o out3 rogue.iep
stderr_names "names trust-x.card" "sites/trust-x.card"
rm sites/trust-x.card

# Without any card for the impostor it is simply unknown.
expect 5 "an unknown signer" -- iep-open -i "$B" -o out4 rogue.iep
nothing_left "nothing opened" out2 out3 out4

# Several site folders in IEP_SITES: the same card in two is fine...
mkdir sites2
cp sites/trust-a.card sites2/
IEP_SITES="$T/sites:$T/sites2" expect 0 "the same card in two folders" -- iep-open -i "$B" -o out5 genuine.iep
# ... two different cards for one name are refused, naming both files.
cp rogue.card sites2/trust-a.card
IEP_SITES="$T/sites:$T/sites2" expect 10 "two cards for trust-a" -- iep-open -i "$B" -o out6 rogue.iep
stderr_names "names the second folder's card" "$T/sites2/trust-a.card"
assert "and the first's" -- grep -qF "$T/sites/trust-a.card" "$T/.err"
IEP_SITES="$T/sites2:$T/sites" expect 10 "in either order" -- iep-open -i "$B" -o out6 genuine.iep
IEP_SITES="$T/sites:$T/sites2" expect 10 "a name given to --to is looked up in every folder" -- iep-send -i "$A" --to trust-a --output x.iep study
stderr_names "names both cards" "$T/sites2/trust-a.card"
nothing_left "nothing opened or sealed" out6 x.iep
rm sites2/trust-a.card

# One signing key under two names: a copy of trust-a's card renamed trust-q.
sed 's/^site: trust-a$/site: trust-q/' sites/trust-a.card >sites2/trust-q.card
IEP_SITES="$T/sites:$T/sites2" expect 10 "one key, two names" -- iep-open -i "$B" -o out7 genuine.iep
stderr_names "names both files" "sites2/trust-q.card"
rm sites2/trust-q.card

# The user's folder (XDG_CONFIG_HOME) and /etc combine the same way when
# IEP_SITES is unset: a second trust-a card there is a conflict too.
mkdir -p "$XDG_CONFIG_HOME/iep/sites"
cp sites/*.card "$XDG_CONFIG_HOME/iep/sites/"
(unset IEP_SITES; failed=0; expect 0 "cards from XDG_CONFIG_HOME/iep/sites" -- iep-open -i "$B" -o out8 genuine.iep; [ "$failed" -eq 0 ]) || bad "XDG_CONFIG_HOME site folder"
cp rogue.card "$XDG_CONFIG_HOME/iep/sites/rogue.card"
(unset IEP_SITES; failed=0; expect 10 "a misnamed card in XDG_CONFIG_HOME/iep/sites" -- iep-open -i "$B" -o out9 genuine.iep; [ "$failed" -eq 0 ]) || bad "misnamed card in XDG_CONFIG_HOME"

finish
