/**
 * What an offer says about its agent, turned into what Kubernetes sees: the Node name and labels of the kubelet that runs
 * there, and the attribute values Marathon-style constraints compare against. Pure.
 */
import { LABEL_AGENT_ID, LABEL_ATTRIBUTE_PREFIX } from '../names.js';
export interface OfferAgentFields {
  agent_id: { value: string };
  hostname: string;
  attributes?: AttributeLike[];
  domain?: { fault_domain?: { region?: { name: string }; zone?: { name: string } } };
}

export interface AttributeLike {
  name: string;
  type?: string;
  scalar?: { value: number };
  ranges?: { range?: { begin: number; end: number }[] };
  set?: { item?: string[] };
  text?: { value: string };
}

export interface AgentInfo {
  id: string;
  hostname: string;
  nodeName: string;
  zone?: string;
  region?: string;
  /** Attribute values in Mesos' text form (`r1`, `4`, `[31000-32000]`, `{a,b}`), for constraints. */
  attributes: Record<string, string>;
  /** Labels the kubelet's Node carries. */
  labels: Record<string, string>;
}

export interface AgentInfoOptions {
  /** Take the zone from this agent attribute instead of the offer's fault domain. */
  zoneAttribute?: string;
  regionAttribute?: string;
}

export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_REGION = 'topology.kubernetes.io/region';

export function attributeText(a: AttributeLike): string {
  if (a.text) return a.text.value;
  if (a.scalar) return String(a.scalar.value);
  if (a.ranges) return `[${(a.ranges.range ?? []).map((r) => `${r.begin}-${r.end}`).join(',')}]`;
  if (a.set) return `{${(a.set.item ?? []).join(',')}}`;
  return '';
}

/** A valid label value: ≤ 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric (or empty). */
export function labelValue(s: string): string {
  let v = s.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 63);
  v = v.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
  return v;
}

/** A valid label-name suffix (after the prefix), ≤ 63 characters. */
function labelNamePart(s: string): string {
  return labelValue(s.toLowerCase()) || 'x';
}

/** A DNS-1123 subdomain usable as a Node name. */
export function nodeNameFor(hostname: string, agentId: string): string {
  const n = hostname
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 253);
  return n || `agent-${labelNamePart(agentId)}`;
}

export function agentInfoFromOffer(offer: OfferAgentFields, opts: AgentInfoOptions = {}): AgentInfo {
  const attributes: Record<string, string> = {};
  for (const a of offer.attributes ?? []) attributes[a.name] = attributeText(a);
  const zone = opts.zoneAttribute ? attributes[opts.zoneAttribute] : offer.domain?.fault_domain?.zone?.name;
  const region = opts.regionAttribute ? attributes[opts.regionAttribute] : offer.domain?.fault_domain?.region?.name;
  const id = offer.agent_id.value;
  const nodeName = nodeNameFor(offer.hostname, id);
  const labels: Record<string, string> = {
    [LABEL_HOSTNAME]: labelValue(nodeName),
    [LABEL_AGENT_ID]: labelValue(id),
  };
  if (zone) labels[LABEL_ZONE] = labelValue(zone);
  if (region) labels[LABEL_REGION] = labelValue(region);
  for (const [name, value] of Object.entries(attributes)) labels[LABEL_ATTRIBUTE_PREFIX + labelNamePart(name)] = labelValue(value);
  return { id, hostname: offer.hostname, nodeName, zone, region, attributes, labels };
}
