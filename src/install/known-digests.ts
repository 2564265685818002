/**
 * Digests the feature trusts for the k3s versions it knows, independent of whichever mirror serves the download: a
 * mirror can rewrite its own `sha256sum-<arch>.txt` or its own manifests, but not this table.
 *
 * Only values that two or more independent projects agree on (or that one quotes verbatim from the release's own
 * `sha256sum-<arch>.txt`) are here; see docs/ARCHITECTURE.md "Pinned digests". A value seen in one place only, or
 * seen with two different values, is left out: such a version installs verified only against its source's checksum.
 * `binary` is the sha256 of the release asset (`k3s` for amd64, `k3s-arm64`); `imageIndex` is the digest of the
 * multi-arch `rancher/k3s:<version with - for +>` index.
 */
export interface PinnedDigest {
  value: string;
  /** Where the value was seen, so anyone can re-check it. */
  source: string;
}

export interface KnownRelease {
  binary: Partial<Record<'amd64' | 'arm64', PinnedDigest>>;
  imageIndex?: PinnedDigest;
}

export const KNOWN_RELEASES: Readonly<Record<string, KnownRelease>> = Object.freeze({
  'v1.36.4+k3s1': {
    binary: {
      amd64: {
        value: '835873f37245fc615f547a2fe2af9402a347875f13fa64a1f136de644955ea3f',
        source: 'release sha256sum-amd64.txt quoted verbatim in an appliance pins doc; WeCoLabHQ/wecolab install.sh; rediacc/console plan doc',
      },
      arm64: {
        value: 'c920706346d5ad4e5cd3c7bf1bb09ce71ebe07fec829e513e40f1caf98aed8bb',
        source: 'WeCoLabHQ/wecolab; rediacc/console (re-hashed from the download); saiyam1814/kiac pkg/cluster/gpu_k3s.go',
      },
    },
    imageIndex: {
      value: 'sha256:edad48e12bf81c3a09ac1c05c0c0ffaaa22145980b989d6fae84543a76b83657',
      source: 'saiyam1814/kiac pkg/cluster/versions.go ("multi-arch manifest digest") and 5+ other repositories',
    },
  },
  'v1.36.5+k3s1': {
    binary: {
      amd64: {
        value: 'd73847bcd3c5fccef0115b372e2f9a91f3032dc84bbf71518a4617565294d313',
        source: 'fleetlyrun/fleetly e2e scripts; isoloom/isoloom; an AWS Terraform default; an ostree build script',
      },
    },
  },
  'v1.36.3+k3s1': {
    binary: {
      amd64: {
        value: '2f98a9f8fe5782479ee2d54e70a1b10a7f6fd4cae8d38ed3098452dc6eed76b5',
        source: 'kube-hetzner/terraform-hcloud-kube-hetzner locals.tf; rediacc/console',
      },
      arm64: {
        value: 'c9a209103f480f163b7c6a56f00862b4481927b284dc29a3716bb70d886691a8',
        source: 'kube-hetzner/terraform-hcloud-kube-hetzner locals.tf; a bootstrap script; rediacc/console',
      },
    },
  },
  'v1.36.2+k3s1': {
    binary: {
      amd64: { value: '65a55ec56c24eab44383086166ec620a491952b7e23941a49ddca6e8a4c4b4de', source: 'two independent projects agree' },
    },
    imageIndex: { value: 'sha256:6a47cea22c4b834d4ba72c89d291696b79ebe406251f90b446e4dff03513dd87', source: 'many independent repositories agree' },
  },
  'v1.35.5+k3s1': {
    binary: {
      amd64: { value: '267d18da7b3c837d82283f0588fb9031a8a6ff3c0dac772c260c40852ce515f6', source: 'two independent projects agree' },
    },
    imageIndex: { value: 'sha256:2074403abe1bded11ef3dde09d457e13be8e0b64c218b1c4f8269b4565cfbc65', source: '8+ independent repositories agree' },
  },
  'v1.35.8+k3s1': {
    binary: {
      arm64: { value: '898476e008704289382377ef19946f23b511cf2678042cb5c8aef991e64f840a', source: 'saiyam1814/kiac and two other projects' },
    },
    imageIndex: { value: 'sha256:59fe491fd3b73204e499e40b325240d85c42c7189c3ae50150d37b78243f3b32', source: 'saiyam1814/kiac and others' },
  },
  'v1.37.1+k3s1': {
    binary: {},
    imageIndex: {
      value: 'sha256:ca7f37d993d82ef0dcdcfecb2e0e2618ea541dbaffc620c8cedebe01a82acd0d',
      source: "a gVisor fork's tools/fork/pod_restore_test.sh; thesmos-project/casdoor-integration; others",
    },
  },
  'v1.37.0+k3s1': {
    binary: {
      amd64: { value: '39eed8f53f277497dfc2542f66eab0ed68a94dfc598946dbebfb50366916c7a2', source: 'two independent projects agree' },
    },
  },
});
