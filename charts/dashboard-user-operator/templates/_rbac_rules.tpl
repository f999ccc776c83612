{{/*
RBAC rules, each verb justified by what the operator does (docs/design.md §3); the packaging test
`rbac` checks them against every request the operator made during the e2e suite.
*/}}

{{/* Namespaced kinds the operator reconciles or reads, for a watched namespace. */}}
{{- define "duo.rules.namespaced" -}}
# Users: watched; the finalizer is added and removed with a patch.
- apiGroups: [userop.dev]
  resources: [dashboardusers]
  verbs: [get, list, watch, patch]
# Status is written with server-side apply (a patch of the status subresource).
- apiGroups: [userop.dev]
  resources: [dashboardusers/status]
  verbs: [patch]
# The access Secret carries a controller ownerReference with blockOwnerDeletion, which the
# OwnerReferencesPermissionEnforcement admission plugin only allows with update on finalizers.
- apiGroups: [userop.dev]
  resources: [dashboardusers/finalizers]
  verbs: [update]
# Groups: watched and read (a user's groupRef); the finalizer is added and removed with a patch.
- apiGroups: [userop.dev]
  resources: [dashboardusergroups]
  verbs: [get, list, watch, patch]
- apiGroups: [userop.dev]
  resources: [dashboardusergroups/status]
  verbs: [patch]
- apiGroups: [userop.dev]
  resources: [dashboardconnections]
  verbs: [get, list, watch]
- apiGroups: [userop.dev]
  resources: [dashboardconnections/status]
  verbs: [patch]
# Password Secrets are watched (metadata only) and read; access Secrets are applied
# (server-side apply: a patch, which the API server also authorizes as create when the Secret
# is new), and deleted when a user's accessKeySecret is renamed. create also makes the
# password-fingerprint key in the operator's namespace on first run.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end }}

{{/* The cluster-scoped kind: no Role can grant it, so it always needs a ClusterRole. */}}
{{- define "duo.rules.cluster" -}}
# A ClusterDashboardConnection's allowedNamespaces.selector is matched against namespace labels.
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get]
- apiGroups: [userop.dev]
  resources: [clusterdashboardconnections]
  verbs: [get, list, watch]
- apiGroups: [userop.dev]
  resources: [clusterdashboardconnections/status]
  verbs: [patch]
{{- end }}

{{/*
Release namespace when it is not watched: cluster connections' Secrets are read there and
watched (metadata only, so a rotation is picked up at once), and the password-fingerprint key
Secret is created there on first run. No Events: nothing the operator reports on lives there.
*/}}
{{- define "duo.rules.operatorNamespace" -}}
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch, create]
{{- end }}

{{/* Leader election: one Lease in the release namespace, by name (replaced, never patched). */}}
{{- define "duo.rules.leader" -}}
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [create]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  resourceNames: [{{ include "duo.leaseName" . | quote }}]
  verbs: [get, update]
{{- end }}
