"use strict";
// The position page's chart, drawn with TradingView's lightweight-charts (vendored beside this file)
// from /positions/ID/chart/ (positions/charts.py): candles with one marker per trade and the average
// price in the top pane, size and PnL in the panes below, on one time axis.
//
// The JSON's numbers are exact decimal strings. They become JavaScript numbers here only to be drawn;
// the axes round them to the market's steps, and the legend shows the exact strings on hover.
// The figure says what it shows in data attributes (data-state, data-candles, data-markers, read
// back from the chart's own series and markers) and window.positionChart gives the same, for tests.
function showPositionChart(figure) {
  const LWC = window.LightweightCharts;
  const canvas = figure.querySelector("#chart-canvas");
  const legend = figure.querySelector("#chart-legend");
  const note = figure.querySelector("#chart-note");
  const seconds = (ms) => Math.floor(ms / 1000);
  const BUY = "#0a7d38", SELL = "#b42318", ACCENT = "#2952cc";
  const priceFormat = (places) => ({ type: "price", precision: places, minMove: Math.pow(10, -places) });

  const chart = LWC.createChart(canvas, {
    autoSize: true,
    layout: { background: { color: "#ffffff" }, textColor: "#1d2330", fontSize: 11 },
    grid: { vertLines: { color: "#f0f2f5" }, horzLines: { color: "#f0f2f5" } },
    timeScale: { timeVisible: true, secondsVisible: false },
    localization: { timeFormatter: (time) => new Date(time * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC" },
  });
  const candles = chart.addSeries(LWC.CandlestickSeries, { upColor: BUY, downColor: SELL, borderVisible: false, wickUpColor: BUY, wickDownColor: SELL }, 0);
  // Where the venue sent no candles, the trades' prices stand in for them (so the markers still sit on a series).
  const tradePrices = chart.addSeries(LWC.LineSeries, { color: "#6b7280", lineWidth: 1, pointMarkersVisible: true, priceLineVisible: false }, 0);
  const average = chart.addSeries(LWC.LineSeries, { color: ACCENT, lineWidth: 2, lineStyle: LWC.LineStyle.Dashed, lineType: LWC.LineType.WithSteps, title: "avg", priceLineVisible: false }, 0);
  const size = chart.addSeries(LWC.LineSeries, { color: "#7c3aed", lineWidth: 2, lineType: LWC.LineType.WithSteps, title: "size" }, 1);
  const pnl = chart.addSeries(LWC.BaselineSeries, { baseValue: { type: "price", price: 0 }, title: "PnL" }, 2);
  const markers = LWC.createSeriesMarkers(candles, []);
  const tradeMarkers = LWC.createSeriesMarkers(tradePrices, []);
  let data = null;
  let byTime = new Map();

  function line(points) {
    // one point a second, the last of each: the chart's times are whole seconds, strictly ascending
    const kept = new Map();
    points.forEach((p) => kept.set(seconds(p.time), p.value));
    return Array.from(kept, ([time, value]) => ({ time, value: Number(value) }));
  }

  function exactAt(points) {
    return new Map(points.map((p) => [seconds(p.time), p.value]));
  }

  function draw(json) {
    data = json;
    const quote = json.quote, base = json.base;
    candles.applyOptions({ priceFormat: priceFormat(json.formats.price.places) });
    tradePrices.applyOptions({ priceFormat: priceFormat(json.formats.price.places) });
    average.applyOptions({ priceFormat: priceFormat(json.formats.price.places) });
    size.applyOptions({ priceFormat: priceFormat(json.formats.size.places) });
    pnl.applyOptions({ priceFormat: priceFormat(json.formats.pnl.places) });
    candles.setData(json.candles.map((c) => ({ time: seconds(c.time), open: Number(c.open), high: Number(c.high), low: Number(c.low), close: Number(c.close) })));
    const withCandles = json.candles.length > 0;
    tradePrices.setData(withCandles ? [] : line(json.markers.map((m) => ({ time: m.time, value: m.price }))));
    average.setData(line(json.average_price));
    size.setData(line(json.size));
    pnl.setData(line(json.pnl));
    const shown = json.markers.map((m) => ({
      id: m.trade_id,
      time: seconds(withCandles ? m.candle_time : m.time),
      position: m.side === "buy" ? "belowBar" : "aboveBar",
      shape: m.side === "buy" ? "arrowUp" : "arrowDown",
      color: m.side === "buy" ? BUY : SELL,
      text: json.markers.length <= 12 ? m.text : "",
    })).sort((a, b) => a.time - b.time);
    (withCandles ? markers : tradeMarkers).setMarkers(shown);
    (withCandles ? tradeMarkers : markers).setMarkers([]);
    byTime = new Map([
      ["candle", new Map(json.candles.map((c) => [seconds(c.time), c]))],
      ["size", exactAt(json.size)],
      ["pnl", exactAt(json.pnl)],
      ["average", exactAt(json.average_price)],
      ["trade", new Map(json.markers.map((m) => [m.trade_id, m]))],
    ]);
    chart.timeScale().fitContent();
    const panes = chart.panes();
    if (panes.length === 3) { panes[1].setHeight(90); panes[2].setHeight(110); }
    figure.dataset.state = withCandles ? "ready" : "no-candles";
    figure.dataset.candles = String(candles.data().length);
    figure.dataset.markers = String(api.markers().length);
    figure.dataset.timeframe = json.timeframe;
    note.textContent = withCandles
      ? `${json.timeframe} candles of ${json.symbol} from the venue; size in ${base} and PnL in ${quote} (at each candle's close) below. Hover for exact values.`
      : `No candles from the venue (${json.candles_error || "none in this range"}): the trades' prices instead.`;
  }

  chart.subscribeCrosshairMove((param) => {
    if (!data || param.time === undefined) { legend.textContent = ""; legend.title = ""; return; }
    const parts = [];
    const trade = param.hoveredObjectId !== undefined ? byTime.get("trade").get(param.hoveredObjectId) : undefined;
    if (trade) parts.push(`${trade.side} ${trade.amount} ${data.base} @ ${trade.price} (trade ${trade.trade_id})`);
    const c = byTime.get("candle").get(param.time);
    if (c) parts.push(`O ${c.open} H ${c.high} L ${c.low} C ${c.close} V ${c.volume}`);
    for (const [key, label, unit] of [["average", "avg", ""], ["size", "size", data.base], ["pnl", "PnL", data.quote]]) {
      const value = byTime.get(key).get(param.time);
      if (value !== undefined) parts.push(`${label} ${value}${unit ? " " + unit : ""}`);
    }
    legend.textContent = parts.join(" · ");
    legend.title = legend.textContent;
  });

  let loading = null;
  let again = false;
  function reload() {
    if (loading) { again = true; return loading; }
    loading = fetch(figure.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => { if (!response.ok) throw new Error(`${response.status} ${response.statusText}`); return response.json(); })
      .then(draw)
      .catch((error) => { figure.dataset.state = "error"; note.textContent = `The chart could not be loaded: ${error.message}`; })
      .finally(() => { loading = null; if (again) { again = false; reload(); } });
    return loading;
  }

  const api = {
    figure,
    reload,
    markers: () => (data && data.candles.length ? markers : tradeMarkers).markers(),
    candles: () => candles.data(),
    chart,
  };
  window.positionChart = api;
  reload();
  return api;
}
