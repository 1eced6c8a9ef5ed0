import { defineCommand } from "citty";
export default defineCommand({ meta: { name: "upgrade", description: "placeholder" }, args: {}, run() {} });
