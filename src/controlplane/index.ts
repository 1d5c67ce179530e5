export { installControlPlane, InstallError, PACKAGES, type InstallOptions, type InstallResult } from './install.js';
export { startControlPlane, ControlPlaneError, type ControlPlane, type ControlPlaneOptions, type ApiServerControl } from './controlplane.js';
export { readInstalled, cacheLayout, SERVERS, type Stamp } from './paths.js';
export { renderKubeconfig, type KubeconfigSpec } from './kubeconfig.js';
export {
  nodeArtifacts,
  readNodeInstalled,
  containerdRegistryMirror,
  imageRef,
  REGISTRY_HOST,
  NODE_IMAGES,
  WEB_IMAGE_PORT,
  type NodeArtifacts,
  type NodeStamp,
  type NodeImage,
} from './node-artifacts.js';
export { startRegistry, type Registry, type RegistryOptions } from './registry.js';
