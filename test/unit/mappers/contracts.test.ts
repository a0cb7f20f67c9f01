import { describe, expect, it } from "vitest";
import {
  mapContractFacts,
  mapContractResolve,
  mapContractsSearch,
  mapOptionsChain,
  optionMonthCode,
  resolveCandidateIds,
  selectChainStrikes,
  selectOptionUnderlying,
} from "../../../src/cpapi/mappers/index.ts";
import { clone, expectGatewayError, expectValid, fixture } from "./helpers.ts";

const MEXI_INFO = {
  con_id: 38708077,
  symbol: "AAPL",
  instrument_type: "STK",
  currency: "MXN",
  exchange: "MEXI",
  valid_exchanges: "MEXI",
  company_name: "APPLE INC",
  smart_available: false,
};

describe("mapContractsSearch", () => {
  it("keeps the broker's order and takes currency from contract info when given", () => {
    const result = mapContractsSearch(fixture("searchContracts.aapl"), [fixture("getContractInfo.aapl")], {
      query: "AAPL",
    });
    expectValid("ibkr_contracts_search", result);
    expect(result).toEqual({
      query: "AAPL",
      candidates: [
        {
          contract_id: "265598",
          symbol: "AAPL",
          asset_class: "stock",
          company_name: "APPLE INC",
          exchange: "NASDAQ",
          currency: "USD",
          has_options: true,
          has_futures: false,
        },
        {
          contract_id: "38708077",
          symbol: "AAPL",
          asset_class: "stock",
          company_name: "APPLE INC",
          exchange: "MEXI",
          has_options: false,
          has_futures: false,
        },
      ],
    });
  });

  it("narrows by currency and exchange only where contract info confirms them", () => {
    const infos = [fixture("getContractInfo.aapl"), MEXI_INFO];
    const byCurrency = mapContractsSearch(fixture("searchContracts.aapl"), infos, {
      query: "AAPL",
      currency: "USD",
    });
    expect(byCurrency.candidates.map((c) => c.contract_id)).toEqual(["265598"]);
    const bySmart = mapContractsSearch(fixture("searchContracts.aapl"), infos, {
      query: "AAPL",
      exchange: "SMART",
    });
    expect(bySmart.candidates.map((c) => c.contract_id)).toEqual(["265598"]);
    const byMexi = mapContractsSearch(fixture("searchContracts.aapl"), [], {
      query: "AAPL",
      exchange: "MEXI",
    });
    expect(byMexi.candidates.map((c) => c.contract_id)).toEqual(["38708077"]);
    const unconfirmed = mapContractsSearch(fixture("searchContracts.aapl"), [], {
      query: "AAPL",
      currency: "USD",
    });
    expect(unconfirmed.candidates).toEqual([]);
  });

  it("treats stock and etf filters alike and filters other classes out", () => {
    const etf = mapContractsSearch(fixture("searchContracts.aapl"), [], { query: "AAPL", assetClass: "etf" });
    expect(etf.candidates).toHaveLength(2);
    const options = mapContractsSearch(fixture("searchContracts.aapl"), [], {
      query: "AAPL",
      assetClass: "option",
    });
    expectValid("ibkr_contracts_search", options);
    expect(options.candidates).toEqual([]);
  });

  it("skips rows without a usable conid and caps the list at 50", () => {
    const rows = Array.from({ length: 60 }, (_, i) => ({
      conid: String(1000 + i),
      symbol: "X",
      sections: [],
    }));
    rows.unshift({ conid: "-1", symbol: "X", sections: [] });
    const result = mapContractsSearch(rows, [], { query: "X" });
    expectValid("ibkr_contracts_search", result);
    expect(result.candidates).toHaveLength(50);
    expect(result.candidates[0]).toEqual({
      contract_id: "1000",
      symbol: "X",
      asset_class: "other",
      has_options: false,
      has_futures: false,
    });
  });

  it("refuses a body that is not a list", () => {
    expectGatewayError(
      () => mapContractsSearch({ error: "x" }, [], { query: "X" }),
      "BROKER_RESPONSE_INVALID",
      {
        operation_id: "searchContracts",
      },
    );
  });
});

describe("mapContractResolve", () => {
  it("resolves exactly one stock with its currency and routes", () => {
    const search = fixture("searchContracts.aapl");
    expect(resolveCandidateIds(search, { symbol: "aapl" })).toEqual(["265598", "38708077"]);
    const result = mapContractResolve(search, [fixture("getContractInfo.aapl"), MEXI_INFO], {
      symbol: "AAPL",
      currency: "USD",
    });
    expectValid("ibkr_contract_resolve", result);
    expect(result).toEqual({
      contract_id: "265598",
      symbol: "AAPL",
      asset_class: "stock",
      company_name: "APPLE INC",
      exchange: "NASDAQ",
      currency: "USD",
      valid_exchanges: [
        "SMART",
        "AMEX",
        "NYSE",
        "CBOE",
        "PHLX",
        "ISE",
        "CHX",
        "ARCA",
        "NASDAQ",
        "DRCTEDGE",
        "BEX",
        "BATS",
        "EDGEA",
        "BYX",
        "IEX",
        "EDGX",
        "PEARL",
        "MEMX",
        "IBEOS",
        "OVERNIGHT",
      ],
    });
  });

  it("refuses ambiguity with the candidates, unknown symbols and other asset classes", () => {
    const search = fixture("searchContracts.aapl");
    const infos = [fixture("getContractInfo.aapl"), MEXI_INFO];
    const ambiguous = expectGatewayError(
      () => mapContractResolve(search, infos, { symbol: "AAPL" }),
      "INPUT_AMBIGUOUS_CONTRACT",
    );
    expect(ambiguous.details?.candidates).toEqual([
      { contract_id: "265598", exchange: "NASDAQ", currency: "USD" },
      { contract_id: "38708077", exchange: "MEXI", currency: "MXN" },
    ]);
    expectGatewayError(() => mapContractResolve(search, infos, { symbol: "MSFT" }), "INPUT_INVALID_CONTRACT");
    expectGatewayError(
      () => mapContractResolve(search, infos, { symbol: "AAPL", assetClass: "option" }),
      "INPUT_UNSUPPORTED_ASSET_CLASS",
    );
  });

  it("needs the chosen contract's info", () => {
    expectGatewayError(
      () => mapContractResolve(fixture("searchContracts.aapl"), [], { symbol: "AAPL", exchange: "NASDAQ" }),
      "BROKER_RESPONSE_INVALID",
      { operation_id: "getContractInfo", field: "con_id" },
    );
  });
});

const PUT_275 = {
  ...(clone(fixture("getSecdefInfo.aapl-call")) as Record<string, unknown>[])[0],
  conid: 812345679,
  right: "P",
  desc2: "JAN 16 '26 275 Put",
};
const CALL_270 = {
  ...(clone(fixture("getSecdefInfo.aapl-call")) as Record<string, unknown>[])[0],
  conid: 812345670,
  strike: 270,
  desc2: "JAN 16 '26 270 Call",
};
const CALL_270_WEEKLY_FEB = {
  ...CALL_270,
  conid: 812345671,
  maturityDate: "20260206",
  tradingClass: "AAPL7",
};

describe("option chains", () => {
  it("converts months both ways", () => {
    expect(optionMonthCode("2026-06")).toBe("JUN26");
    expect(optionMonthCode("2025-12")).toBe("DEC25");
    expectGatewayError(() => optionMonthCode("2026-13"), "INPUT_INVALID_ARGUMENT");
  });

  it("lists only the expiry months without a month", () => {
    const result = mapOptionsChain(fixture("searchContracts.aapl"), null, [], {
      symbol: "AAPL",
      maxStrikes: 20,
    });
    expectValid("ibkr_options_chain", result);
    expect(result).toEqual({
      underlying: { contract_id: "265598", symbol: "AAPL", company_name: "APPLE INC" },
      expiry_months: [
        "2025-12",
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-04",
        "2026-06",
        "2026-09",
        "2026-12",
        "2027-01",
      ],
      contracts: [],
      strikes_truncated: false,
    });
  });

  it("selects strikes in range, lowest first, and says when more exist", () => {
    const strikes = fixture("getOptionStrikes.aapl");
    expect(selectChainStrikes(strikes, { strikeMin: "270", strikeMax: "280", maxStrikes: 2 })).toEqual({
      strikes: ["270", "275"],
      truncated: true,
    });
    expect(selectChainStrikes(strikes, { right: "put", strikeMin: "296", maxStrikes: 20 })).toEqual({
      strikes: ["300"],
      truncated: false,
    });
  });

  it("builds the month's contracts from the strikes' secdef info", () => {
    const result = mapOptionsChain(
      fixture("searchContracts.aapl"),
      fixture("getOptionStrikes.aapl"),
      [
        [PUT_275, CALL_270_WEEKLY_FEB],
        fixture("getSecdefInfo.aapl-call"),
        [CALL_270],
        fixture("getSecdefInfo.empty"),
      ],
      { symbol: "AAPL", month: "2026-01", strikeMin: "270", strikeMax: "280", maxStrikes: 2 },
    );
    expectValid("ibkr_options_chain", result);
    expect(result.month).toBe("2026-01");
    expect(result.strikes_truncated).toBe(true);
    expect(result.contracts).toEqual([
      {
        contract_id: "812345670",
        expiry: "2026-01-16",
        strike: "270",
        right: "call",
        multiplier: "100",
        currency: "USD",
        trading_class: "AAPL",
        exchange: "SMART",
      },
      {
        contract_id: "812345678",
        expiry: "2026-01-16",
        strike: "275",
        right: "call",
        multiplier: "100",
        currency: "USD",
        trading_class: "AAPL",
        exchange: "SMART",
      },
      {
        contract_id: "812345679",
        expiry: "2026-01-16",
        strike: "275",
        right: "put",
        multiplier: "100",
        currency: "USD",
        trading_class: "AAPL",
        exchange: "SMART",
      },
    ]);
    const calls = mapOptionsChain(
      fixture("searchContracts.aapl"),
      fixture("getOptionStrikes.aapl"),
      [[PUT_275], fixture("getSecdefInfo.aapl-call")],
      { symbol: "AAPL", month: "2026-01", right: "call", strikeMin: "275", strikeMax: "275", maxStrikes: 5 },
    );
    expect(calls.contracts.map((c) => c.contract_id)).toEqual(["812345678"]);
  });

  it("refuses secdef rows without a multiplier", () => {
    expectGatewayError(
      () =>
        mapOptionsChain(
          fixture("searchContracts.aapl"),
          fixture("getOptionStrikes.aapl"),
          [[{ ...CALL_270, multiplier: null }]],
          {
            symbol: "AAPL",
            month: "2026-01",
            maxStrikes: 20,
          },
        ),
      "BROKER_RESPONSE_INVALID",
      { operation_id: "getSecdefInfo", field: "multiplier" },
    );
  });

  it("picks the one underlying with options, or refuses", () => {
    expect(selectOptionUnderlying(fixture("searchContracts.ambiguous"), { symbol: "MSFT" })).toMatchObject({
      contractId: "272093",
      months: ["2025-12", "2026-01", "2026-02", "2026-03"],
    });
    const twice = clone(fixture("searchContracts.ambiguous")) as Record<string, unknown>[];
    (twice[1] as Record<string, unknown>).opt = "20260116";
    expectGatewayError(() => selectOptionUnderlying(twice, { symbol: "MSFT" }), "INPUT_AMBIGUOUS_CONTRACT");
    expect(
      selectOptionUnderlying(twice, { symbol: "MSFT", underlyingContractId: "38708970" }).contractId,
    ).toBe("38708970");
    expectGatewayError(
      () => selectOptionUnderlying(fixture("searchContracts.aapl"), { symbol: "IBM" }),
      "INPUT_INVALID_CONTRACT",
    );
  });
});

describe("mapContractResolve with an exchange", () => {
  // Two listings of one ticker that both route to NYSE and NASDAQ, as US stocks do.
  const search = [
    {
      conid: "990001",
      symbol: "ACME",
      companyName: "ACME CORP",
      description: "NYSE",
      sections: [{ secType: "STK" }],
    },
    {
      conid: "990002",
      symbol: "ACME",
      companyName: "ACME HOLDINGS",
      description: "NASDAQ",
      sections: [{ secType: "STK" }],
    },
  ];
  const info = (id: number) => ({
    con_id: id,
    symbol: "ACME",
    instrument_type: "STK",
    currency: "USD",
    exchange: "SMART",
    valid_exchanges: "SMART,NYSE,NASDAQ,IEX",
    smart_available: true,
  });
  const infos = [info(990001), info(990002)];

  it("picks the contract whose primary listing is the exchange", () => {
    expect(mapContractResolve(search, infos, { symbol: "ACME", exchange: "NYSE" }).contract_id).toBe(
      "990001",
    );
    expect(mapContractResolve(search, infos, { symbol: "ACME", exchange: "nasdaq" }).contract_id).toBe(
      "990002",
    );
  });

  it("stays ambiguous for an exchange that is no candidate's listing", () => {
    const error = expectGatewayError(
      () => mapContractResolve(search, infos, { symbol: "ACME", exchange: "IEX" }),
      "INPUT_AMBIGUOUS_CONTRACT",
    );
    expect(error.details?.candidates).toEqual([
      { contract_id: "990001", exchange: "NYSE", currency: "USD" },
      { contract_id: "990002", exchange: "NASDAQ", currency: "USD" },
    ]);
  });
});

describe("mapContractFacts", () => {
  it("reads symbol, asset class and currency of a stock and of an option", () => {
    expect(mapContractFacts(fixture("getContractInfo.aapl"), "265598")).toEqual({
      contractId: "265598",
      symbol: "AAPL",
      assetClass: "stock",
      currency: "USD",
    });
    const option = {
      con_id: "610116950",
      symbol: "AAPL",
      instrument_type: "OPT",
      currency: "USD",
      right: "CALL",
    };
    expect(mapContractFacts(option, "610116950")).toEqual({
      contractId: "610116950",
      symbol: "AAPL",
      assetClass: "option",
      currency: "USD",
    });
  });

  it("refuses the info of another contract and a body without a conid", () => {
    expectGatewayError(
      () => mapContractFacts(fixture("getContractInfo.aapl"), "8314"),
      "BROKER_RESPONSE_INVALID",
      {
        operation_id: "getContractInfo",
        field: "con_id",
        reason: "other_contract",
      },
    );
    expectGatewayError(() => mapContractFacts({ symbol: "AAPL" }, "265598"), "BROKER_RESPONSE_INVALID", {
      field: "con_id",
    });
  });
});
