// The command words of the tools, with one line of help each, in the words a trader uses. Kept apart from
// the generated bindings so that `ibkr-agent --help` lists every command without loading them; a test keeps
// this list equal to the first words of the generated tool commands.
export const GROUP_DESCRIPTIONS: Readonly<Record<string, string>> = {
  account: "One account's summary and metadata",
  accounts: "Brokerage accounts of this login",
  approvals: "Approve order previews",
  audit: "The tamper-evident audit log",
  backend: "The broker backend",
  contracts: "Find and resolve tradable contracts",
  executions: "Executions (fills)",
  fundamentals: "Company fundamentals",
  fx: "Foreign-exchange rates",
  health: "Whether the gateway itself works (never contacts the broker)",
  "kill-switch": "Stop all order submits and modifies",
  limits: "Live trading limits and their use today",
  market: "Quotes, bars, depth and trading calendars",
  news: "News headlines and articles",
  options: "Option chains and greeks",
  orders: "Preview, submit, modify, cancel and inspect orders",
  pnl: "Profit and loss",
  portfolio: "Portfolio snapshot",
  positions: "Positions",
  scanner: "Market scanners",
  session: "The broker session",
  transfers: "Deposits and withdrawals",
};

export const TOOL_WORDS: readonly string[] = Object.keys(GROUP_DESCRIPTIONS);
