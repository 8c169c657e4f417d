// tests/mcp/client.mjs: pycage's /mcp driven by the official MCP TypeScript
// SDK (@modelcontextprotocol/sdk, pinned by package-lock.json): its Client
// over its StreamableHTTPClientTransport connects (initialize, the SDK's
// own protocol version), lists the tools, and calls run_python with the
// README's two examples, a failing program, a timeout and a files round
// trip.  The SDK itself checks every structuredContent against the tool's
// outputSchema.  Prints TAP.
//
// PYCAGE_URL (default http://127.0.0.1:8080) names the front.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const base = (process.env.PYCAGE_URL || "http://127.0.0.1:8080").replace(/\/$/, "");
const planned = 27;
let n = 0, failed = 0;

function ok(cond, what, detail) {
	n++;
	if (cond)
		console.log(`ok ${n} - ${what}`);
	else {
		failed++;
		console.log(`not ok ${n} - ${what}`);
		if (detail !== undefined)
			console.log(`# ${JSON.stringify(detail).slice(0, 2000)}`);
	}
}

function text(result) {
	const block = (result.content || []).find((c) => c.type === "text");
	return block ? block.text : "";
}

async function call(client, args) {
	return client.callTool({ name: "run_python", arguments: args });
}

async function main() {
	console.log(`1..${planned}`);
	const client = new Client({ name: "pycage-sdk-test", version: "1.0.0" });
	const transport = new StreamableHTTPClientTransport(new URL(base + "/mcp"));
	await client.connect(transport);
	ok(client.getServerVersion()?.name === "pycage", "initialize: serverInfo names pycage",
	    client.getServerVersion());
	ok(/sandbox/.test(client.getInstructions() || ""), "initialize: instructions say what pycage is");
	ok(client.getServerCapabilities()?.tools !== undefined, "initialize: the tools capability");
	ok(transport.sessionId === undefined, "no session id: the server is stateless");

	const { tools } = await client.listTools();
	ok(tools.length === 1 && tools[0].name === "run_python", "tools/list: one tool, run_python",
	    tools.map((t) => t.name));
	const tool = tools[0];
	ok(tool.inputSchema?.required?.includes("code") &&
	    tool.inputSchema?.properties?.files?.items?.properties?.encoding !== undefined,
	    "inputSchema: code required, files with encoding", tool.inputSchema);
	ok(tool.outputSchema?.required?.includes("stdout") &&
	    tool.outputSchema?.required?.includes("files_truncated") &&
	    tool.outputSchema?.properties?.exception !== undefined,
	    "outputSchema: the answer object's keys", tool.outputSchema);
	// The one source: GET /v1/tool has the same name, description, parameters.
	const def = await (await fetch(base + "/v1/tool")).json();
	ok(def.name === tool.name && def.description === tool.description,
	    "GET /v1/tool: the same name and description", def.name);
	ok(JSON.stringify(def.parameters) === JSON.stringify(tool.inputSchema),
	    "GET /v1/tool: parameters are the inputSchema");
	ok(/numpy \d/.test(tool.description) && /No network/.test(tool.description) &&
	    /open\(\)/.test(tool.description) && /no state/.test(tool.description),
	    "description: versions, no network, no open(), no state", tool.description);

	// The README's two examples (test_examples.py has the same bytes).
	let r = await call(client, { code: "import numpy as np\na = np.array([[1, 2], [3, 4]])\n" +
	    "b = np.array([[5, 6], [7, 8]])\nprint(a @ b)\n" });
	ok(r.structuredContent?.stdout === "[[19 22]\n [43 50]]\n" && r.isError === false,
	    "numpy matrix product: stdout and isError false", r.structuredContent);
	ok(text(r).includes("[[19 22]\n [43 50]]") && text(r).startsWith("status: ok"),
	    "numpy: the text block holds the status and stdout", text(r));

	r = await call(client, { code: "import pandas as pd\ndf = pd.DataFrame({\"region\": [\"north\", " +
	    "\"south\", \"north\", \"east\", \"south\"], \"sales\": [120, 80, 200, 50, 130]})\n" +
	    "print(df.groupby(\"region\")[\"sales\"].sum().sort_values(ascending=False).to_string())\n" });
	ok(r.structuredContent?.stdout === "region\nnorth    320\nsouth    210\neast      50\n" &&
	    r.structuredContent?.status === "ok", "pandas sales table: stdout", r.structuredContent);

	// A failing program: the exception as data, isError.
	r = await call(client, { code: "def share(n):\n    return 10 // n\n\nshare(0)\n" });
	const e = r.structuredContent?.exception;
	ok(r.isError === true && r.structuredContent?.status === "error" &&
	    r.structuredContent?.exit_code === 1, "failing program: isError, status error, exit 1",
	    r.structuredContent);
	ok(e?.type === "ZeroDivisionError" && e?.line === 2 && e?.traceback?.length === 2,
	    "failing program: the exception's type, line and frames", e);
	ok(/exception: ZeroDivisionError: integer division or modulo by zero \(line 2\)/.test(text(r)) &&
	    text(r).includes("Traceback (most recent call last)"),
	    "failing program: the text block has the exception and the traceback", text(r));

	// The last expression's value.
	r = await call(client, { code: "2 + 2\n" });
	ok(r.structuredContent?.result === "4" && /result: 4\n/.test(text(r)),
	    "the last expression's value in both", r);

	// A timeout.
	r = await call(client, { code: "while True:\n    pass\n", timeout: 1 });
	ok(r.isError === true && r.structuredContent?.status === "timeout" &&
	    r.structuredContent?.exit_code === 137, "timeout 1 s: status timeout, isError",
	    r.structuredContent);

	// Files in and out: a CSV by name, a text file back, and a binary one.
	r = await call(client, {
		code: "import pandas as pd\nimport numpy as np\ndf = pd.read_csv(\"sales.csv\")\n" +
		    "df.groupby(\"region\").sales.sum().to_csv(\"totals.csv\")\n" +
		    "np.save(\"a.npy\", np.arange(3))\n",
		files: [{ name: "sales.csv", content: "region,sales\nnorth,120\nsouth,80\nnorth,200\n" }],
	});
	const files = r.structuredContent?.files || [];
	ok(r.isError === false && files.length === 2 && files[1].name === "totals.csv" &&
	    files[1].content === "region,sales\nnorth,320\nsouth,80\n",
	    "files: totals.csv back in structuredContent, sales.csv not", files.map((f) => f.name));
	const res = (r.content || []).filter((c) => c.type === "resource");
	const csv = res.find((c) => c.resource.uri === "file:///mnt/data/totals.csv");
	ok(csv?.resource.mimeType === "text/csv" && csv?.resource.text === files[1]?.content,
	    "files: totals.csv as an embedded text/csv resource", csv);
	const npy = res.find((c) => c.resource.uri === "file:///mnt/data/a.npy");
	const npyBytes = npy ? Buffer.from(npy.resource.blob, "base64") : Buffer.alloc(0);
	ok(npy?.resource.mimeType === "application/octet-stream" &&
	    npyBytes.subarray(0, 6).toString("latin1") === "\x93NUMPY" &&
	    npy.resource.blob === files[0]?.content, "files: a.npy as a base64 blob resource", npy);
	ok(/files written: a\.npy \(\d+ bytes\), totals\.csv \(32 bytes\)/.test(text(r)),
	    "files: the text block names them", text(r));

	// A bad argument: a JSON-RPC -32602 with the REST 400's reason text.
	const rest = await (await fetch(base + "/v1/execute", { method: "POST",
	    headers: { "Content-Type": "application/json" },
	    body: JSON.stringify({ code: "x", files: [{ name: "../x", content: "" }] }) })).json();
	let err;
	try {
		await call(client, { code: "x", files: [{ name: "../x", content: "" }] });
	} catch (x) {
		err = x;
	}
	ok(err?.code === -32602 && err?.message.includes(rest.error.message),
	    "bad file name: -32602 with the REST message", { err: err?.message, rest });
	ok(err?.data?.code === "bad_file_name", "bad file name: data.code is the REST code", err?.data);

	err = undefined;
	try {
		await client.callTool({ name: "no_such_tool", arguments: {} });
	} catch (x) {
		err = x;
	}
	ok(err?.code === -32602 && /Unknown tool/.test(err?.message || ""),
	    "unknown tool: -32602", err?.message);

	await client.ping();
	ok(true, "ping answers");

	await client.close();
	ok(true, "close");
}

main().catch((x) => {
	failed++;
	console.log(`not ok ${n + 1} - the client stopped: ${String(x && x.stack || x).split("\n").join(" | ")}`);
	process.exitCode = 1;
}).finally(() => {
	if (failed > 0)
		process.exitCode = 1;
});
