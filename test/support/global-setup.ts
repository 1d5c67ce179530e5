// Placeholder: the control-plane issue replaces this with starting one real control plane for the run.
export default async function globalSetup(): Promise<void> {}
