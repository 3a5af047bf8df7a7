#!/usr/bin/perl
# SPDX-License-Identifier: MIT
#
# make-mmdb.pl - builds haze's GeoIP2-City-shaped test database from a TSV
# spec, with Debian's MaxMind DB writer (libmaxmind-db-writer-perl).
#
#   perl tests/data/make-mmdb.pl [--type NAME] [--lax] SPEC.tsv OUT.mmdb
#
# SPEC has one network a line: network<TAB>country<TAB>subdivision, where
# "-" (or an empty field) means absent and "#" starts a comment. A line
# whose country and subdivision are both absent stores an empty map: the
# address is found, but has no region. Later lines win where networks
# overlap, as the writer itself does.
#
# The output is reproducible: the build epoch is pinned, so the same spec
# gives the same bytes. --type sets database_type (default Haze-Test-City)
# and --lax skips the ISO-code checks, so tests can build databases that a
# reader must refuse or clean up.
use strict;
use warnings;

use Getopt::Long qw(GetOptions);
use MaxMind::DB::Writer::Tree;

# 2026-01-01T00:00:00Z: any fixed value does; this one reads well in
# `mmdblookup --verbose`.
my $BUILD_EPOCH = 1767225600;

my $type = 'Haze-Test-City';
my $lax  = 0;
GetOptions('type=s' => \$type, 'lax' => \$lax)
    or die "usage: $0 [--type NAME] [--lax] SPEC.tsv OUT.mmdb\n";
@ARGV == 2 or die "usage: $0 [--type NAME] [--lax] SPEC.tsv OUT.mmdb\n";
my ($spec, $out) = @ARGV;

# Every key the records use, with its MaxMind DB type.
my %key_types = (
    country      => 'map',
    subdivisions => [ 'array', 'map' ],
    iso_code     => 'utf8_string',
    names        => 'map',
    en           => 'utf8_string',
);

my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version               => 6,
    record_size              => 28,
    database_type            => $type,
    languages                => ['en'],
    description              => { en => 'haze test fixture (documentation networks only)' },
    alias_ipv6_to_ipv4       => 1,
    # The fixture uses TEST-NET, shared-address and 2001:db8:: ranges,
    # which the writer drops by default.
    remove_reserved_networks => 0,
    merge_strategy           => 'none',
    map_key_type_callback    => sub {
        my $t = $key_types{ $_[0] };
        die "make-mmdb.pl: no type for key '$_[0]'\n" unless defined $t;
        return $t;
    },
);
$tree->_set_build_epoch($BUILD_EPOCH);

open my $in, '<', $spec or die "make-mmdb.pl: $spec: $!\n";
my $networks = 0;
while (my $line = <$in>) {
    chomp $line;
    $line =~ s/\r\z//;
    $line =~ s/(?:^|\s)#.*\z//;    # a comment, whole-line or trailing
    next if $line =~ /\A\s*\z/;

    my ($net, $cc, $sub, @rest) = split /\t/, $line, -1;
    my $where = "$spec:$.";
    die "$where: expected network<TAB>country<TAB>subdivision\n"
        if !defined $sub || grep { $_ !~ /\A\s*\z/ } @rest;
    for ($net, $cc, $sub) {
        s/\A\s+//;
        s/\s+\z//;
        $_ = '' if $_ eq '-';
    }
    die "$where: bad network '$net'\n"
        unless $net =~ m{\A[0-9A-Fa-f:.]+/\d{1,3}\z};
    unless ($lax) {
        die "$where: country must be two uppercase letters\n"
            if $cc ne '' && $cc !~ /\A[A-Z]{2}\z/;
        die "$where: subdivision must be 1-3 uppercase letters or digits\n"
            if $sub ne '' && $sub !~ /\A[A-Z0-9]{1,3}\z/;
        die "$where: a subdivision needs a country\n"
            if $sub ne '' && $cc eq '';
    }

    # The GeoIP2 City shape, reduced to what haze reads (and a name, so
    # the records look like the real thing in mmdblookup).
    my %rec;
    $rec{country} = { iso_code => $cc, names => { en => "Country $cc" } }
        if $cc ne '';
    $rec{subdivisions} = [ { iso_code => $sub } ] if $sub ne '';
    $tree->insert_network($net, \%rec);
    $networks++;
}
close $in;
die "make-mmdb.pl: $spec: no networks\n" unless $networks;

# Write beside the target and rename, so make never sees half a file.
my $tmp = "$out.tmp.$$";
open my $fh, '>:raw', $tmp or die "make-mmdb.pl: $tmp: $!\n";
$tree->write_tree($fh);
close $fh or die "make-mmdb.pl: $tmp: $!\n";
rename $tmp, $out or die "make-mmdb.pl: $out: $!\n";
