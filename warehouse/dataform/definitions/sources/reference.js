// Reference data the model runner loads before every run (warehouse/models/seeds.ts): the models
// read it, nothing in contracts/ describes it.
declare({
  schema: "reference",
  name: "exchange_rates",
  description: "Dated exchange rates, loaded by the model runner from the exchange-rates file before every run: rate = units of currency per one unit of the file's base currency.",
  columns: {
    rate_date: "First day the rate applies (until the currency's next row).",
    currency: "ISO 4217 code.",
    rate: "Units of the currency per one unit of the file's base currency.",
  },
});
