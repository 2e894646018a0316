"""Complete Flux objects (spec and status as Flux's controllers write them) parse into the
models and dump back to the same dict."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from weir.api import KINDS, FluxObject, parse_object

DIGEST = "sha256:" + "9f8e7d6c5b4a3921" * 4

INITIALIZED = """
  - type: Ready
    status: "True"
    reason: Succeeded
    message: Initialized
    observedGeneration: 2
    lastTransitionTime: "2026-11-25T10:00:00Z"
"""

READY = """
  - type: Ready
    status: "True"
    reason: Succeeded
    message: "stored artifact for revision 'main@sha1:450796ddb2ab6724ee1cc32a4be56da032d1cca0'"
    observedGeneration: 2
    lastTransitionTime: "2026-11-25T10:00:00Z"
"""

ARTIFACT = """
    digest: sha256:5a4d4dc4b06f1d6b8de7b8e0d0f1cbd5c9c1a7a0a3c8b0e4d1f2a3b4c5d6e7f8
    lastUpdateTime: "2026-11-25T10:00:00Z"
    path: gitrepository/flux-system/flux-system/450796ddb2ab6724ee1cc32a4be56da032d1cca0.tar.gz
    revision: main@sha1:450796ddb2ab6724ee1cc32a4be56da032d1cca0
    size: 28734
    url: http://source-controller.flux-system.svc.cluster.local./gitrepository/flux-system/flux-system/450796ddb2ab6724ee1cc32a4be56da032d1cca0.tar.gz
"""

METADATA = """
  name: {name}
  namespace: flux-system
  uid: 9b1f4c3e-2a7d-4f1e-9c1a-0d3b6e5f7a21
  resourceVersion: "48213"
  generation: 2
  creationTimestamp: "2026-11-20T08:15:00Z"
  finalizers: [finalizers.fluxcd.io]
  labels:
    app.kubernetes.io/part-of: etherwurst
    kustomize.toolkit.fluxcd.io/name: flux-system
    kustomize.toolkit.fluxcd.io/namespace: flux-system
  annotations:
    reconcile.fluxcd.io/requestedAt: "2026-11-25T09:59:58.123456789Z"
  managedFields:
  - apiVersion: {api_version}
    fieldsType: FieldsV1
    fieldsV1: {{f:spec: {{f:interval: {{}}}}}}
    manager: kustomize-controller
    operation: Apply
    time: "2026-11-20T08:15:00Z"
"""


def _doc(api_version: str, kind: str, name: str, body: str) -> dict[str, Any]:
    text = (
        f"apiVersion: {api_version}\nkind: {kind}\nmetadata:"
        + METADATA.format(name=name, api_version=api_version)
        + body
    )
    doc: dict[str, Any] = yaml.safe_load(text)
    return doc


OBJECTS: dict[str, dict[str, Any]] = {
    "GitRepository": _doc(
        "source.toolkit.fluxcd.io/v1",
        "GitRepository",
        "flux-system",
        f"""
spec:
  interval: 1m0s
  url: ssh://git@github.com/etherwurst/fleet
  ref:
    branch: main
  secretRef:
    name: flux-system
  provider: generic
  timeout: 60s
  ignore: |
    /*
    !/clusters
  include:
  - repository:
      name: shared
    fromPath: deploy
    toPath: shared
  verify:
    mode: HEAD
    secretRef:
      name: pgp-keys
  proxySecretRef:
    name: proxy
  recurseSubmodules: true
  sparseCheckout: [clusters, apps]
  suspend: false
status:
  observedGeneration: 2
  lastHandledReconcileAt: "2026-11-25T09:59:58.123456789Z"
  conditions:{READY}
  - type: ArtifactInStorage
    status: "True"
    reason: Succeeded
    message: "stored artifact for revision 'main@sha1:450796ddb2ab6724ee1cc32a4be56da032d1cca0'"
    observedGeneration: 2
    lastTransitionTime: "2026-11-25T10:00:00Z"
  artifact:{ARTIFACT}
  includedArtifacts:
  -{ARTIFACT[4:]}
  observedIgnore: |
    /*
    !/clusters
  observedRecurseSubmodules: true
  observedInclude:
  - repository:
      name: shared
    fromPath: deploy
    toPath: shared
  observedSparseCheckout: [clusters, apps]
  sourceVerificationMode: HEAD
""",
    ),
    "OCIRepository": _doc(
        "source.toolkit.fluxcd.io/v1",
        "OCIRepository",
        "cert-manager",
        f"""
spec:
  interval: 12h
  url: oci://quay.io/jetstack/charts/cert-manager
  ref:
    semver: 1.x
    semverFilter: ".*-rc.*"
  layerSelector:
    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
    operation: copy
  provider: generic
  timeout: 60s
  insecure: false
  verify:
    provider: cosign
    matchOIDCIdentity:
    - issuer: ^https://token.actions.githubusercontent.com$
      subject: ^https://github.com/cert-manager/cert-manager.*$
    trustedRootSecretRef:
      name: sigstore-root
  certSecretRef:
    name: registry-ca
  serviceAccountName: puller
status:
  observedGeneration: 2
  conditions:{READY}
  url: http://source-controller.flux-system.svc.cluster.local./ocirepository/flux-system/cert-manager/latest.tar.gz
  artifact:{ARTIFACT}
    metadata:
      org.opencontainers.image.created: "2026-11-01T00:00:00Z"
      org.opencontainers.image.revision: v1.19.1@sha1:0f0e0d0c0b0a09080706050403020100ffeeddcc
      org.opencontainers.image.source: https://github.com/cert-manager/cert-manager
  observedIgnore: "*.md"
  observedLayerSelector:
    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
    operation: copy
""",
    ),
    "HelmRepository": _doc(
        "source.toolkit.fluxcd.io/v1",
        "HelmRepository",
        "ethereum-helm-charts",
        f"""
spec:
  interval: 1h
  url: https://ethpandaops.github.io/ethereum-helm-charts
  provider: generic
  timeout: 60s
  passCredentials: false
  secretRef:
    name: charts-auth
  certSecretRef:
    name: charts-ca
  accessFrom:
    namespaceSelectors:
    - matchLabels:
        team: ethereum
status:
  observedGeneration: 2
  conditions:{READY}
  url: http://source-controller.flux-system.svc.cluster.local./helmrepository/flux-system/ethereum-helm-charts/index.yaml
  artifact:{ARTIFACT}
""",
    ),
    "HelmChart": _doc(
        "source.toolkit.fluxcd.io/v1",
        "HelmChart",
        "ethereum-erigon",
        f"""
spec:
  chart: erigon
  version: ">=0.1.0"
  sourceRef:
    kind: HelmRepository
    name: ethereum-helm-charts
  interval: 10m
  reconcileStrategy: ChartVersion
  valuesFiles: [values.yaml, values-archive.yaml]
  ignoreMissingValuesFiles: true
  verify:
    provider: notation
    secretRef:
      name: notation-certs
status:
  observedGeneration: 2
  observedSourceArtifactRevision: {DIGEST}
  observedChartName: erigon
  observedValuesFiles: [values.yaml, values-archive.yaml]
  conditions:{READY}
  url: http://source-controller.flux-system.svc.cluster.local./helmchart/flux-system/ethereum-erigon/latest.tar.gz
  artifact:{ARTIFACT}
""",
    ),
    "Bucket": _doc(
        "source.toolkit.fluxcd.io/v1",
        "Bucket",
        "chain-exports",
        f"""
spec:
  provider: aws
  bucketName: etherwurst-exports
  endpoint: s3.amazonaws.com
  region: eu-central-1
  prefix: manifests/
  serviceAccountName: exporter
  sts:
    provider: aws
    endpoint: https://sts.amazonaws.com
  interval: 5m
  timeout: 60s
  ignore: "*.parquet"
status:
  observedGeneration: 2
  conditions:{READY}
  url: http://source-controller.flux-system.svc.cluster.local./bucket/flux-system/chain-exports/latest.tar.gz
  artifact:{ARTIFACT}
  observedIgnore: "*.parquet"
""",
    ),
    "ExternalArtifact": _doc(
        "source.toolkit.fluxcd.io/v1",
        "ExternalArtifact",
        "apps",
        f"""
spec:
  sourceRef:
    apiVersion: source.extensions.fluxcd.io/v1beta1
    kind: ArtifactGenerator
    name: fleet
    namespace: flux-system
status:
  conditions:{READY}
  artifact:{ARTIFACT}
""",
    ),
    "ArtifactGenerator": _doc(
        "source.extensions.fluxcd.io/v1beta1",
        "ArtifactGenerator",
        "fleet",
        f"""
spec:
  sources:
  - alias: repo
    kind: GitRepository
    name: flux-system
  - alias: chart
    kind: OCIRepository
    name: erigon-chart
    namespace: charts
  artifacts:
  - name: apps
    originRevision: "@repo"
    copy:
    - from: "@repo/apps/**"
      to: "@artifact/"
      exclude: ["*.md", "**/testdata/**"]
  - name: erigon
    revision: "@chart"
    copy:
    - from: "@chart/"
      to: "@artifact/"
    - from: "@repo/values/erigon-prod.yaml"
      to: "@artifact/erigon/values.yaml"
      strategy: Merge
    - from: "@chart/*.tgz"
      to: "@artifact/vendor/"
      strategy: Extract
status:
  observedGeneration: 3
  conditions:{READY}
  lastHandledReconcileAt: "2026-11-25T09:59:58.123456789Z"
  observedSourcesDigest: sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
  inventory:
  - name: apps
    namespace: flux-system
    digest: sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
    filename: "3162378418.tar.gz"
""",
    ),
    "Kustomization": _doc(
        "kustomize.toolkit.fluxcd.io/v1",
        "Kustomization",
        "apps",
        f"""
spec:
  interval: 10m0s
  retryInterval: 2m
  timeout: 5m
  path: ./clusters/production/apps
  prune: true
  wait: true
  force: false
  deletionPolicy: MirrorPrune
  sourceRef:
    kind: GitRepository
    name: flux-system
  dependsOn:
  - name: infrastructure
  - name: monitoring
    namespace: observability
    readyExpr: dep.status.conditions.filter(c, c.type == 'Ready').all(c, c.status == 'True')
  targetNamespace: ethereum
  namePrefix: eth-
  nameSuffix: -prod
  serviceAccountName: kustomize-apps
  buildMetadata: [originAnnotations]
  components: [../../components/archive]
  ignoreMissingComponents: true
  commonMetadata:
    labels:
      env: production
    annotations:
      owner: platform
  decryption:
    provider: sops
    secretRef:
      name: sops-age
  postBuild:
    substitute:
      CLUSTER: production
      quote: '"'
    substituteFrom:
    - kind: ConfigMap
      name: cluster-vars
      optional: false
    - kind: Secret
      name: cluster-secrets
      optional: true
    substituteStrategy: WithVariables
  patches:
  - patch: |
      - op: replace
        path: /spec/replicas
        value: 2
    target:
      kind: Deployment
      name: otterscan
      labelSelector: app=otterscan
  images:
  - name: erigontech/erigon
    newTag: v3.2.1
  - name: blockscout/blockscout
    newName: registry.example.org/blockscout
    digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  healthChecks:
  - apiVersion: apps/v1
    kind: StatefulSet
    name: erigon
    namespace: ethereum
  healthCheckExprs:
  - apiVersion: cert-manager.io/v1
    kind: Certificate
    current: status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True')
    failed: status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'False')
  ignore:
  - paths: [/spec/replicas]
    target:
      kind: Deployment
  kubeConfig:
    secretRef:
      name: prod-kubeconfig
      key: value.yaml
status:
  observedGeneration: 2
  lastHandledReconcileAt: "2026-11-25T09:59:58.123456789Z"
  conditions:{READY}
  - type: Healthy
    status: "True"
    reason: Succeeded
    message: Health check passed in 2.014s
    observedGeneration: 2
    lastTransitionTime: "2026-11-25T10:00:02Z"
  lastAppliedRevision: main@sha1:450796ddb2ab6724ee1cc32a4be56da032d1cca0
  lastAppliedOriginRevision: v1.2.3@sha1:0f0e0d0c0b0a09080706050403020100ffeeddcc
  lastAttemptedRevision: main@sha1:450796ddb2ab6724ee1cc32a4be56da032d1cca0
  inventory:
    entries:
    - id: _ethereum__Namespace
      v: v1
    - id: ethereum_erigon__Service
      v: v1
    - id: ethereum_erigon_apps_StatefulSet
      v: v1
  history:
  - digest: sha256:3d4c2b1a0f9e8d7c6b5a49382716f5e4d3c2b1a0f9e8d7c6b5a49382716f5e4d
    firstReconciled: "2026-11-20T08:15:05Z"
    lastReconciled: "2026-11-25T10:00:02Z"
    lastReconciledDuration: 2.101s
    lastReconciledStatus: ReconciliationSucceeded
    totalReconciliations: 734
    metadata:
      revision: main@sha1:450796ddb2ab6724ee1cc32a4be56da032d1cca0
""",
    ),
    "HelmRelease": _doc(
        "helm.toolkit.fluxcd.io/v2",
        "HelmRelease",
        "erigon",
        f"""
spec:
  interval: 10m
  timeout: 15m
  releaseName: erigon
  targetNamespace: ethereum
  storageNamespace: ethereum
  maxHistory: 3
  persistentClient: true
  serviceAccountName: helm-ethereum
  chart:
    metadata:
      labels:
        chain: mainnet
    spec:
      chart: erigon
      version: ">=0.1.0"
      sourceRef:
        kind: HelmRepository
        name: ethereum-helm-charts
        namespace: flux-system
      interval: 1h
      reconcileStrategy: ChartVersion
      valuesFiles: [values.yaml]
      verify:
        provider: cosign
        secretRef:
          name: cosign-pub
  dependsOn:
  - name: lighthouse
    namespace: ethereum
  install:
    crds: CreateReplace
    createNamespace: true
    disableOpenAPIValidation: false
    skipCRDs: false
    serverSideApply: true
    strategy:
      name: RetryOnFailure
      retryInterval: 2m
    remediation:
      retries: 3
  upgrade:
    crds: CreateReplace
    cleanupOnFail: true
    chartNameChangeStrategy: InPlaceUpdate
    serverSideApply: auto
    remediation:
      retries: -1
      strategy: rollback
      remediateLastFailure: true
  test:
    enable: true
    ignoreFailures: true
    filters:
    - name: smoke
      exclude: false
  rollback:
    cleanupOnFail: true
    serverSideApply: auto
  uninstall:
    keepHistory: false
    deletionPropagation: background
  driftDetection:
    mode: enabled
    ignore:
    - paths: [/spec/replicas]
      target:
        kind: StatefulSet
  commonMetadata:
    labels:
      team: ethereum
  postRenderStrategy: combined
  postRenderers:
  - kustomize:
      patches:
      - patch: |
          apiVersion: apps/v1
          kind: StatefulSet
          metadata:
            name: erigon
          spec:
            template:
              spec:
                nodeSelector:
                  pool: archive
      images:
      - name: erigontech/erigon
        newTag: v3.2.1
  waitStrategy:
    name: poller
  healthCheckExprs:
  - apiVersion: monitoring.coreos.com/v1
    kind: ServiceMonitor
    current: "true"
  values:
    persistence:
      enabled: true
      size: 3Ti
      storageClass: managed-premium
    extraArgs:
    - --prune.mode=archive
    - --http.api=eth,net,web3,trace,debug,txpool,erigon,ots
    resources:
      requests:
        cpu: 4
        memory: 32Gi
    nested: {{deep: [1, 2.5, null, true, {{k: v}}]}}
  valuesFrom:
  - kind: ConfigMap
    name: erigon-values
    valuesKey: values.yaml
  - kind: Secret
    name: erigon-jwt
    valuesKey: jwt
    targetPath: jwt.secret
    optional: true
    literal: true
status:
  observedGeneration: 2
  lastAttemptedGeneration: 2
  lastHandledReconcileAt: "2026-11-25T09:59:58.123456789Z"
  lastHandledForceAt: "2026-11-24T09:00:00Z"
  lastHandledResetAt: "2026-11-24T09:00:00Z"
  conditions:{READY}
  - type: Released
    status: "True"
    reason: InstallSucceeded
    message: Helm install succeeded for release ethereum/erigon.v1 with chart erigon@0.4.2
    observedGeneration: 2
    lastTransitionTime: "2026-11-25T10:00:00Z"
  helmChart: flux-system/ethereum-erigon
  storageNamespace: ethereum
  history:
  - name: erigon
    namespace: ethereum
    version: 1
    status: deployed
    action: install
    apiVersion: v1
    appVersion: v3.2.1
    chartName: erigon
    chartVersion: 0.4.2
    configDigest: sha256:1e2d3c4b5a69788796a5b4c3d2e1f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b
    digest: sha256:a0b1c2d3e4f5061728394a5b6c7d8e9f00112233445566778899aabbccddeeff
    firstDeployed: "2026-11-20T08:20:00Z"
    lastDeployed: "2026-11-20T08:20:00Z"
    ociDigest: sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
    testHooks:
      erigon-smoke:
        lastStarted: "2026-11-20T08:21:00Z"
        lastCompleted: "2026-11-20T08:21:30Z"
        phase: Succeeded
  lastAttemptedReleaseAction: install
  lastAttemptedReleaseActionDuration: 1m2.5s
  failures: 0
  installFailures: 1
  upgradeFailures: 0
  lastAttemptedRevision: 0.4.2
  lastAttemptedRevisionDigest: {DIGEST}
  lastAttemptedConfigDigest: sha256:1e2d3c4b5a69788796a5b4c3d2e1f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b
  lastAttemptedValuesChecksum: da39a3ee5e6b4b0d3255bfef95601890afd80709
  lastReleaseRevision: 1
  observedPostRenderersDigest: {DIGEST}
  observedCommonMetadataDigest: {DIGEST}
  inventory:
    entries:
    - id: ethereum_erigon__Service
      v: v1
    - id: ethereum_erigon_apps_StatefulSet
      v: v1
""",
    ),
    "Provider": _doc(
        "notification.toolkit.fluxcd.io/v1beta3",
        "Provider",
        "github-status",
        f"""
spec:
  type: github
  address: https://github.com/etherwurst/fleet
  secretRef:
    name: github-token
  commitStatusExpr: (event.involvedObject.kind + '/' + event.involvedObject.name)
  timeout: 15s
  channel: general
  username: flux
  proxySecretRef:
    name: proxy
  certSecretRef:
    name: github-ca
  suspend: false
status:  # weir's addition to v1beta3 (ADR 0008)
  observedGeneration: 2
  conditions:{INITIALIZED}
""",
    ),
    "Alert": _doc(
        "notification.toolkit.fluxcd.io/v1beta3",
        "Alert",
        "on-call",
        f"""
spec:
  providerRef:
    name: slack
  eventSeverity: error
  eventSources:
  - kind: Kustomization
    name: "*"
  - kind: HelmRelease
    name: "*"
    namespace: ethereum
    matchLabels:
      tier: chain
  - kind: GitRepository
    name: flux-system
    apiVersion: source.toolkit.fluxcd.io/v1
  inclusionList: [".*failed.*"]
  exclusionList: ["^Dependencies.*"]
  eventMetadata:
    cluster: aks-prod-weu
  summary: production alerts
status:  # weir's addition to v1beta3 (ADR 0008)
  observedGeneration: 2
  conditions:{INITIALIZED}
""",
    ),
    "Receiver": _doc(
        "notification.toolkit.fluxcd.io/v1",
        "Receiver",
        "github",
        f"""
spec:
  type: github
  interval: 10m
  events: [ping, push]
  secretRef:
    name: webhook-token
  resourceFilter: req.ref == 'refs/heads/main'
  resources:
  - kind: GitRepository
    name: flux-system
  - kind: OCIRepository
    name: "*"
    matchLabels:
      repo: fleet
    filter: res.metadata.name.startsWith('fleet-')
status:
  observedGeneration: 2
  conditions:{READY}
  webhookPath: /hook/bed6d00b5555b1603e1f59b94d7fdbca58089cb5663633fb83f2815dc626d92b
""",
    ),
    "FluxInstance": _doc(
        "fluxcd.controlplane.io/v1",
        "FluxInstance",
        "flux",
        f"""
spec:
  distribution:
    version: "2.x"
    registry: ghcr.io/fluxcd
    variant: upstream-alpine
    imagePullSecret: pull
    artifact: oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests
    artifactPullSecret: artifact-pull
  components: [source-controller, kustomize-controller, helm-controller]
  commonMetadata:
    labels: {{team: platform}}
    annotations: {{owner: sre}}
  cluster:
    type: azure
    size: large
    domain: cluster.local
    multitenant: true
    tenantDefaultServiceAccount: flux
    tenantDefaultDecryptionServiceAccount: decrypt
    tenantDefaultKubeConfigServiceAccount: kubeconfig
    objectLevelWorkloadIdentity: true
    multitenantWorkloadIdentity: true
    networkPolicy: false
  sharding:
    key: sharding.fluxcd.io/key
    shards: [shard1, shard2]
    storage: persistent
  storage:
    class: standard
    size: 10Gi
  kustomize:
    patches:
    - target: {{kind: Deployment, name: kustomize-controller}}
      patch: |
        - op: add
          path: /spec/template/spec/nodeSelector
          value: {{kubernetes.io/os: linux}}
  wait: true
  migrateResources: false
  sync:
    name: fleet
    kind: GitRepository
    url: https://github.com/my-org/fleet.git
    ref: refs/heads/main
    path: clusters/prod
    pullSecret: flux-system
    provider: github
    interval: 5m
status:
  observedGeneration: 2
  conditions:{READY}
  lastHandledReconcileAt: "2026-11-25T09:59:58Z"
  lastHandledForceAt: "2026-11-25T09:00:00Z"
  lastAttemptedRevision: v2.9.0@sha256:4cc5babdb1279ad0177bf513292deadbf
  lastAppliedRevision: v2.8.0@sha256:4cc5babdb1279ad0177bf513292deadbf
  components:
  - name: kustomize-controller
    repository: ghcr.io/weir-gitops/weir
    tag: 0.1.0
    digest: sha256:48a032574dd45c39750ba0f1488e6f1ae36756a38f40976a6b7a588d83acefc1
  inventory:
    entries:
    - id: flux-system_kustomize-controller_apps_Deployment
      v: v1
  history:
  - digest: sha256:4cc5babdb1279ad0177bf513292deadbfa3f7b7c3da0be7fa53b39ab434f7219
    firstReconciled: "2026-11-25T09:00:00Z"
    lastReconciled: "2026-11-25T10:00:00Z"
    lastReconciledDuration: 2.8s
    lastReconciledStatus: ReconciliationSucceeded
    totalReconciliations: 3
    metadata: {{flux: v2.9.0}}
  notApplicable:
  - field: spec.distribution.artifact
    reason: weir renders its controllers from its own code
""",
    ),
    "FluxReport": _doc(
        "fluxcd.controlplane.io/v1",
        "FluxReport",
        "flux",
        f"""
spec:
  distribution:
    status: Installed
    version: v2.9.0
    managedBy: weir
  cluster: {{serverVersion: v1.36.3, platform: linux/amd64, nodes: 2}}
  operator: {{apiVersion: fluxcd.controlplane.io/v1, version: 0.1.0, platform: linux/amd64}}
  components:
  - name: kustomize-controller
    image: ghcr.io/weir-gitops/weir:0.1.0
    ready: true
    status: "Current Deployment is available. Replicas: 1"
  reconcilers:
  - apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    stats: {{running: 2, failing: 0, suspended: 1, totalSize: 3.7 MiB}}
  sync:
    id: kustomization/flux-system
    path: clusters/prod
    ready: true
    source: https://github.com/my-org/fleet.git
    status: "Applied revision: refs/heads/main@sha1:a90cd1ac35de01c175f7199315d3f4cd60195911"
status:
  observedGeneration: 2
  conditions:{READY}
  lastReported: "2026-11-25T10:00:00Z"
""",
    ),
    "ResourceSet": _doc(
        "fluxcd.controlplane.io/v1",
        "ResourceSet",
        "apps",
        f"""
spec:
  commonMetadata:
    labels:
      app.kubernetes.io/part-of: apps
  inputStrategy:
    name: Permute
    includeEmptyProviders: true
  inputs:
  - tenant: team1
    app:
      version: 6.7.x
      replicas: 2
  inputsFrom:
  - apiVersion: fluxcd.controlplane.io/v1
    kind: ResourceSetInputProvider
    name: pull-requests
  - selector:
      matchLabels:
        app: podinfo
      matchExpressions:
      - key: environment
        operator: In
        values: [dev, staging]
  resources:
  - apiVersion: v1
    kind: Namespace
    metadata:
      name: << inputs.tenant >>
  resourcesTemplate: |
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: << inputs.tenant >>
  dependsOn:
  - apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    name: helmreleases.helm.toolkit.fluxcd.io
    ready: true
    readyExpr: status.conditions.exists(c, c.type == 'Established')
  serviceAccountName: flux
  wait: true
status:
  observedGeneration: 1
  conditions:{READY}
  inventory:
    entries:
    - id: _team1__Namespace
      v: v1
  lastAppliedRevision: sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
  history:
  - digest: sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
    firstReconciled: "2025-01-01T10:00:00Z"
    lastReconciled: "2025-01-01T11:00:00Z"
    lastReconciledDuration: 2.1s
    lastReconciledStatus: ReconciliationSucceeded
    totalReconciliations: 2
    metadata:
      inputs: "1"
      resources: "2"
""",
    ),
    "ResourceSetInputProvider": _doc(
        "fluxcd.controlplane.io/v1",
        "ResourceSetInputProvider",
        "pull-requests",
        f"""
spec:
  type: GiteaPullRequest
  url: https://gitea.example.com/etherwurst/analytics
  secretRef:
    name: gitea-token
  certSecretRef:
    name: gitea-ca
  defaultValues:
    chart: charts/analytics
  filter:
    limit: 10
    labels: [deploy/preview]
    includeBranch: ^feat/
  skip:
    labels: ["!deploy/preview"]
  schedule:
  - cron: "0 8 * * 1-5"
    timeZone: Europe/London
    window: 8h
status:
  observedGeneration: 1
  conditions:{READY}
  exportedInputs:
  - id: "4"
    sha: bf5d6e01cf802734853f6f3417b237e3ad0ba35d
    branch: feat/ui
    author: alice
    title: "feat(ui): footer"
    chart: charts/analytics
  lastExportedRevision: sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
  nextSchedule:
    cron: "0 8 * * 1-5"
    timeZone: Europe/London
    window: 8h
    when: "2025-01-06T08:00:00Z"
""",
    ),
}


def test_every_kind_has_a_sample() -> None:
    assert set(OBJECTS) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(OBJECTS))
def test_complete_objects_round_trip(kind: str) -> None:
    raw = OBJECTS[kind]
    model = parse_object(raw)
    assert isinstance(model, KINDS[kind].model)
    assert model.model_dump(by_alias=True, exclude_none=True) == raw
    # and again through JSON, as the API server sends it
    again = type(model).model_validate_json(model.model_dump_json(exclude_none=True))
    assert again == model


@pytest.mark.parametrize("kind", sorted(OBJECTS))
def test_minimal_objects_round_trip(kind: str) -> None:
    """Without status and optional fields nothing is added on the way back."""
    raw = {k: v for k, v in OBJECTS[kind].items() if k != "status"}
    name = "flux" if kind in ("FluxInstance", "FluxReport") else "x"  # a CEL rule: only flux
    raw["metadata"] = {"name": name, "namespace": "default"}
    model: FluxObject = parse_object(raw)
    assert model.model_dump(exclude_none=True) == raw


def test_python_names_and_wire_names_are_interchangeable() -> None:
    raw = OBJECTS["HelmRelease"]
    model = parse_object(raw)
    spec = model.model_dump(exclude_none=True)["spec"]
    assert spec["install"]["disableOpenAPIValidation"] is False
    assert spec["install"]["skipCRDs"] is False
    by_name = type(model).model_validate(model.model_dump(by_alias=False, exclude_none=True))
    assert by_name == model


def test_values_are_kept_verbatim() -> None:
    model = parse_object(OBJECTS["HelmRelease"])
    values = model.model_dump(exclude_none=True)["spec"]["values"]
    assert values == OBJECTS["HelmRelease"]["spec"]["values"]
    assert values["nested"]["deep"] == [1, 2.5, None, True, {"k": "v"}]


def test_status_helpers() -> None:
    ks = parse_object(OBJECTS["Kustomization"])
    assert ks.name == "apps"
    assert ks.namespace == "flux-system"
    assert ks.is_ready()
    healthy = ks.condition("Healthy")
    assert healthy is not None
    assert healthy.message.startswith("Health check passed")
    assert ks.condition("Stalled") is None
    provider = parse_object(OBJECTS["Provider"])  # a status in weir (ADR 0008)
    assert provider.is_ready()
    assert [c.message for c in provider.conditions()] == ["Initialized"]
    assert not parse_object({**OBJECTS["Provider"], "status": None}).is_ready()
