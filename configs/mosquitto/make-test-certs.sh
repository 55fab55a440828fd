#!/bin/sh
# Test certificates for the broker's TLS listener: a CA, a server certificate and a client
# certificate, EC prime256v1, valid 30 days. For tests and trials only: in the field use your
# own CA and keep its key off the boxes.
#
# Usage: make-test-certs.sh OUTDIR [SERVER_NAME...]     (default SERVER_NAME: localhost)
# Writes OUTDIR/ca.crt, ca.key, server.crt, server.key, client.crt, client.key (keys mode 0600).
# Clients check the broker's name against SERVER_NAMEs; an IP address becomes an IP entry.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 OUTDIR [SERVER_NAME...]" >&2
    exit 2
fi
out=$1
shift
[ $# -ge 1 ] || set -- localhost
command -v openssl >/dev/null || { echo "$0: openssl not found (Debian package openssl)" >&2; exit 2; }

san=""
for name in "$@"; do
    case $name in
        *:*) entry="IP:$name" ;;
        *[!0-9.]*) entry="DNS:$name" ;;
        *) entry="IP:$name" ;;
    esac
    san="${san:+$san,}$entry"
done

mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
days=30

# A config of our own, so the system's openssl.cnf adds nothing unexpected.
cat > "$work/req.cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
CNF

key() {
    (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null)
}

# leaf NAME CN USAGE [SAN]: a key and a certificate signed by the CA.
leaf() {
    key "$out/$1.key"
    {
        echo "basicConstraints = critical,CA:FALSE"
        echo "keyUsage = critical,digitalSignature"
        echo "extendedKeyUsage = $3"
        echo "subjectKeyIdentifier = hash"
        echo "authorityKeyIdentifier = keyid"
        [ -z "${4:-}" ] || echo "subjectAltName = $4"
    } > "$work/$1.ext"
    openssl req -new -key "$out/$1.key" -subj "/CN=$2" -config "$work/req.cnf" -out "$work/$1.csr"
    openssl x509 -req -in "$work/$1.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" \
        -set_serial "0x$(openssl rand -hex 12)" -days "$days" -extfile "$work/$1.ext" \
        -out "$out/$1.crt" 2>/dev/null
}

key "$out/ca.key"
openssl req -x509 -new -key "$out/ca.key" -subj "/CN=Checkpoint Vision test CA" -days "$days" \
    -config "$work/req.cnf" -extensions ca -out "$out/ca.crt"
leaf server "$1" serverAuth "$san"
leaf client edge-client clientAuth
chmod 0644 "$out/ca.crt" "$out/server.crt" "$out/client.crt"
echo "$out: ca.crt, server.crt (names: $san), client.crt and their keys"
