// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// JSON and SVG are full of double quotes: prettier writes such literals single-quoted, which
// reads far better than escaping every one, so solhint's quotes rule is off here.
// solhint-disable quotes

import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {ICertificateToken} from "../interfaces/ICertificateToken.sol";

/// @title CertificateMetadata
/// @notice Renders a certificate's ERC-721 metadata (JSON with an SVG image) from its on-chain
/// record, so a wallet shows face value, claim (face less credit notes), due date, tier,
/// parent, state and payout without any Tierline server. Computed in the view each time:
/// nothing is stored, and no transaction pays for it.
/// @dev Amounts are shown in the settlement token's units when its `symbol()` and `decimals()`
/// answer sensibly (a symbol of at most 16 letters, digits, '.', '-' or '_'; at most 36
/// decimals), e.g. "1250.5" "tUSD"; otherwise as the raw integer of the token's smallest unit
/// with the currency "units of 0x…" (the token's address). The raw integers are always given
/// as attributes too, so nothing is lost to formatting. Internal functions only: the code is
/// inlined into CertificateToken.
library CertificateMetadata {
    using Strings for uint256;

    /// How amounts are written: a readable token's symbol and decimals, or raw units.
    struct Currency {
        bool readable;
        string symbol;
        uint8 decimals;
        address token;
    }

    /// The strings that go into both the JSON and the SVG.
    struct Fields {
        string id;
        string receivable;
        string face;
        string faceUnits;
        /// Face value less the credit notes that cut this piece (issue 16): what it is worth now.
        string claim;
        string claimUnits;
        string paid;
        string paidUnits;
        string currency;
        /// The currency in the picture: the symbol, or "units" (the token address is too wide).
        string currencyShort;
        string due;
        string dueDate;
        string tier;
        string parent;
        string state;
    }

    /// Gas each metadata call to the settlement token may use: a view must not hang on a token.
    uint256 private constant TOKEN_CALL_GAS = 30_000;

    /// The data URI `data:application/json;base64,…` for `certificateId`.
    function tokenURI(
        uint256 certificateId,
        ICertificateToken.Certificate memory certificate,
        uint256 reduction,
        uint256 paidOut,
        address settlementToken
    ) internal view returns (string memory) {
        Fields memory f = _fields(certificateId, certificate, reduction, paidOut, _currencyOf(settlementToken));
        bytes memory json = abi.encodePacked(
            '{"name":"Tierline certificate #',
            f.id,
            '","description":"',
            _description(f),
            '","image":"data:image/svg+xml;base64,',
            Base64.encode(bytes(_svg(f))),
            '","attributes":',
            _attributes(f),
            "}"
        );
        return string.concat("data:application/json;base64,", Base64.encode(json));
    }

    /* ------------------------------------------------------------------ */
    /*                                 Fields                             */
    /* ------------------------------------------------------------------ */

    function _fields(
        uint256 certificateId,
        ICertificateToken.Certificate memory certificate,
        uint256 reduction,
        uint256 paidOut,
        Currency memory currency
    ) private pure returns (Fields memory f) {
        f.id = certificateId.toString();
        f.receivable = uint256(certificate.receivableId).toHexString(32);
        f.faceUnits = certificate.faceValue.toString();
        uint256 claim = certificate.faceValue - reduction;
        f.claimUnits = claim.toString();
        f.paidUnits = paidOut.toString();
        if (currency.readable) {
            f.face = _decimal(certificate.faceValue, currency.decimals);
            f.claim = _decimal(claim, currency.decimals);
            f.paid = _decimal(paidOut, currency.decimals);
            f.currency = currency.symbol;
            f.currencyShort = currency.symbol;
        } else {
            f.face = f.faceUnits;
            f.claim = f.claimUnits;
            f.paid = f.paidUnits;
            f.currency = string.concat("units of ", Strings.toHexString(currency.token));
            f.currencyShort = "units";
        }
        f.due = uint256(certificate.dueDate).toString();
        f.dueDate = _date(certificate.dueDate);
        f.tier = uint256(certificate.tier).toString();
        f.parent = certificate.parentId == 0 ? "none (root)" : string.concat("#", certificate.parentId.toString());
        f.state = _stateName(certificate.state);
    }

    function _stateName(ICertificateToken.CertificateState state) private pure returns (string memory) {
        if (state == ICertificateToken.CertificateState.Live) return "live";
        if (state == ICertificateToken.CertificateState.Locked) return "locked";
        if (state == ICertificateToken.CertificateState.Retired) return "retired";
        if (state == ICertificateToken.CertificateState.Settled) return "settled";
        return "none";
    }

    /* ------------------------------------------------------------------ */
    /*                                  JSON                              */
    /* ------------------------------------------------------------------ */

    function _description(Fields memory f) private pure returns (string memory) {
        return
            string.concat(
                "Tier ",
                f.tier,
                " claim of ",
                f.claim,
                " ",
                f.currency,
                " (face value ",
                f.face,
                " less credit notes) on Tierline receivable ",
                f.receivable,
                ", due ",
                f.dueDate,
                " (UTC). State: ",
                f.state,
                ". Paid out so far: ",
                f.paid,
                " ",
                f.currency,
                ". Computed on-chain from the certificate's record."
            );
    }

    function _attributes(Fields memory f) private pure returns (string memory) {
        string memory first = string.concat(
            _trait("Receivable", f.receivable, true),
            ",",
            _trait("Face value", f.face, true),
            ",",
            _trait("Face value (units)", f.faceUnits, true),
            ",",
            _trait("Claim", f.claim, true),
            ",",
            _trait("Claim (units)", f.claimUnits, true),
            ",",
            _trait("Currency", f.currency, true),
            ",",
            '{"display_type":"date","trait_type":"Due date","value":',
            f.due,
            "},"
        );
        return
            string.concat(
                "[",
                first,
                _trait("Tier", f.tier, false),
                ",",
                _trait("Parent", f.parent, true),
                ",",
                _trait("State", f.state, true),
                ",",
                _trait("Paid out", f.paid, true),
                ",",
                _trait("Paid out (units)", f.paidUnits, true),
                "]"
            );
    }

    /// One attribute; every value written here is escape-free (digits, hex, letters, '#', '.').
    function _trait(string memory name, string memory value, bool quoted) private pure returns (string memory) {
        return
            quoted
                ? string.concat('{"trait_type":"', name, '","value":"', value, '"}')
                : string.concat('{"trait_type":"', name, '","value":', value, "}");
    }

    /* ------------------------------------------------------------------ */
    /*                                   SVG                              */
    /* ------------------------------------------------------------------ */

    function _svg(Fields memory f) private pure returns (string memory) {
        string memory head = string.concat(
            '<svg xmlns="http://www.w3.org/2000/svg" width="360" height="360" viewBox="0 0 360 360" ',
            'font-family="monospace" font-size="14" fill="#e2e8f0">',
            '<rect width="360" height="360" rx="16" fill="#0f172a"/>',
            '<rect x="16" y="16" width="328" height="328" rx="10" fill="none" stroke="',
            _stateColour(f.state),
            '" stroke-width="3"/>',
            '<text x="32" y="52" font-size="18" font-weight="bold">Tierline certificate #',
            f.id,
            "</text>"
        );
        string memory body = string.concat(
            _line(96, string.concat("Claim ", f.claim, " ", f.currencyShort)),
            _line(124, string.concat("Face  ", f.face, " ", f.currencyShort)),
            _line(152, string.concat("Due   ", f.dueDate, " UTC")),
            _line(180, string.concat("Tier  ", f.tier, "   parent ", f.parent)),
            _line(208, string.concat("Paid  ", f.paid, " ", f.currencyShort)),
            _line(236, string.concat("Receivable ", _short(f.receivable)))
        );
        return
            string.concat(
                head,
                body,
                '<text x="32" y="300" font-size="22" font-weight="bold" fill="',
                _stateColour(f.state),
                '">',
                _upper(f.state),
                "</text></svg>"
            );
    }

    function _line(uint256 y, string memory text) private pure returns (string memory) {
        return string.concat('<text x="32" y="', y.toString(), '">', text, "</text>");
    }

    function _stateColour(string memory state) private pure returns (string memory) {
        bytes1 c = bytes(state)[0];
        if (c == "l" && bytes(state)[1] == "i") return "#22c55e"; // live
        if (c == "l") return "#f59e0b"; // locked
        if (c == "s") return "#38bdf8"; // settled
        return "#94a3b8"; // retired
    }

    /// "0x1234abcd…89ef" from a 66-character hex id.
    function _short(string memory hexId) private pure returns (string memory) {
        bytes memory b = bytes(hexId);
        bytes memory out = new bytes(21);
        for (uint256 i; i < 10; ++i) out[i] = b[i];
        // "..." keeps the SVG ASCII-only.
        out[10] = ".";
        out[11] = ".";
        out[12] = ".";
        for (uint256 i; i < 8; ++i) out[13 + i] = b[b.length - 8 + i];
        return string(out);
    }

    function _upper(string memory text) private pure returns (string memory) {
        bytes memory b = bytes(text);
        bytes memory out = new bytes(b.length);
        for (uint256 i; i < b.length; ++i) {
            bytes1 c = b[i];
            out[i] = c >= "a" && c <= "z" ? bytes1(uint8(c) - 32) : c;
        }
        return string(out);
    }

    /* ------------------------------------------------------------------ */
    /*                             Numbers, dates                         */
    /* ------------------------------------------------------------------ */

    /// `amount` smallest units as a decimal with `decimals` places, trailing zeros dropped:
    /// 1250500000 with 6 decimals is "1250.5". Exact: no rounding.
    function _decimal(uint256 amount, uint8 decimals) private pure returns (string memory) {
        uint256 unit = 10 ** uint256(decimals);
        uint256 whole = amount / unit;
        uint256 fraction = amount % unit;
        if (fraction == 0) return whole.toString();
        uint256 places = decimals;
        while (fraction % 10 == 0) {
            fraction /= 10;
            --places;
        }
        bytes memory digits = bytes(fraction.toString());
        bytes memory padded = new bytes(places);
        uint256 zeros = places - digits.length;
        for (uint256 i; i < places; ++i) padded[i] = i < zeros ? bytes1("0") : digits[i - zeros];
        return string.concat(whole.toString(), ".", string(padded));
    }

    /// A unix time as its UTC date "YYYY-MM-DD" (the civil-from-days algorithm of H. Hinnant).
    function _date(uint256 timestamp) private pure returns (string memory) {
        uint256 z = timestamp / 86_400 + 719_468;
        uint256 era = z / 146_097;
        uint256 doe = z - era * 146_097;
        uint256 yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        uint256 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        uint256 mp = (5 * doy + 2) / 153;
        uint256 day = doy - (153 * mp + 2) / 5 + 1;
        uint256 month = mp < 10 ? mp + 3 : mp - 9;
        uint256 year = yoe + era * 400 + (month <= 2 ? 1 : 0);
        return string.concat(year.toString(), "-", _twoDigits(month), "-", _twoDigits(day));
    }

    function _twoDigits(uint256 value) private pure returns (string memory) {
        return value < 10 ? string.concat("0", value.toString()) : value.toString();
    }

    /* ------------------------------------------------------------------ */
    /*                        The settlement token                        */
    /* ------------------------------------------------------------------ */

    /// The token's symbol and decimals if both answer well-formed and safe to embed; raw units
    /// otherwise. Low-level calls so a token without them, or with odd return data, cannot make
    /// `tokenURI` revert.
    function _currencyOf(address token) private view returns (Currency memory currency) {
        currency.token = token;
        (bool okDecimals, bytes memory decimalsData) = token.staticcall{gas: TOKEN_CALL_GAS}(
            abi.encodeWithSignature("decimals()")
        );
        if (!okDecimals || decimalsData.length < 32) return currency;
        uint256 decimals = abi.decode(decimalsData, (uint256));
        if (decimals > 36) return currency;
        (bool okSymbol, bytes memory symbolData) = token.staticcall{gas: TOKEN_CALL_GAS}(
            abi.encodeWithSignature("symbol()")
        );
        if (!okSymbol || symbolData.length < 64) return currency;
        (uint256 offset, uint256 length) = abi.decode(symbolData, (uint256, uint256));
        if (offset != 32 || length == 0 || length > 16 || symbolData.length < 64 + length) return currency;
        bytes memory symbol = new bytes(length);
        for (uint256 i; i < length; ++i) {
            bytes1 c = symbolData[64 + i];
            bool safe =
                (c >= "0" && c <= "9") ||
                    (c >= "A" && c <= "Z") ||
                    (c >= "a" && c <= "z") ||
                    c == "." ||
                    c == "-" ||
                    c == "_";
            if (!safe) return currency;
            symbol[i] = c;
        }
        currency.readable = true;
        currency.symbol = string(symbol);
        currency.decimals = uint8(decimals);
    }
}
