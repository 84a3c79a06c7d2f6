/** Kubernetes building blocks shared by every component: labels, security defaults, resources, images, namespaces. */
export * from "./checksum";
export * from "./endpoints";
export * from "./images";
export * from "./labels";
export * from "./namespace";
export * from "./options";
export * from "./quantity";
export * from "./resources";
export * from "./security";
export * from "./storage";
